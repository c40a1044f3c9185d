# boards/rpi-armhf/board.mk - 32-bit Raspberry Pi OS / Debian armhf on a
# Pi Zero 2 W, Pi 3 or Pi 4. Notes: boards/rpi-armhf/README.md.
#
#   make deps BOARD=rpi-armhf      cross compiler, qemu-user, the armhf sysroot
#   make BOARD=rpi-armhf           everything, in build/rpi-armhf/
#
# Debian's armhf baseline is ARMv7-A with VFPv3-D16 and Thumb-2, which the
# cross compiler targets by default; the binaries then run on every Pi from
# the 2 up. (Raspberry Pi OS's own armhf is ARMv6 for the Pi 1 and Zero:
# those are not supported.)
CROSS_COMPILE ?= arm-linux-gnueabihf-
DEB_ARCH := armhf
MULTIARCH := arm-linux-gnueabihf
QEMU := qemu-arm
BOARD_CFLAGS := -mtune=cortex-a53
include boards/cross.mk
# No real-time clock: the packaged agent.conf waits for NTP (docs/CONFIG.md).
BOARD_CLOCK_REQUIRE_SYNC := yes
