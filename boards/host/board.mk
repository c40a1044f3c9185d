# boards/host/board.mk - building on and for the machine you are on (the
# default; make test, make run). Nothing board-specific.
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
BOARD_CFLAGS :=
