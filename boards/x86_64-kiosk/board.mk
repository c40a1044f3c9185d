# boards/x86_64-kiosk/board.mk - x86-64 kiosks and small PCs in the
# boutiques, Debian 12 amd64. Notes: boards/x86_64-kiosk/README.md.
#
#   make BOARD=x86_64-kiosk        everything, in build/x86_64-kiosk/
#
# x86-64-v2 (SSE4.2, POPCNT: every kiosk CPU since about 2009, Atom
# Silvermont included) and not the build machine's -march=native, so one
# package runs on the whole fleet.
DEB_ARCH := amd64
MULTIARCH := x86_64-linux-gnu
BOARD_CFLAGS := -march=x86-64-v2 -mtune=generic
