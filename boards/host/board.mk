# boards/host/board.mk - building on and for the machine you are on.
BOARD_CFLAGS :=
