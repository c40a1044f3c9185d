# boards/rpi4-arm64/board.mk - Raspberry Pi 3, 4, 5 and Zero 2 W running
# 64-bit Raspberry Pi OS or Debian (aarch64). Notes: boards/rpi4-arm64/README.md.
#
#   make deps BOARD=rpi4-arm64     cross compiler, qemu-user, the arm64 sysroot
#   make BOARD=rpi4-arm64          everything, in build/rpi4-arm64/
#
# Cortex-A53 (Zero 2 W, Pi 3) and A72 (Pi 4) have CRC32 but no AES/PMULL
# instructions: never +crypto, and keep the default AEAD
# (ChaCha20-Poly1305). armv8-a code runs on the Pi 5's A76 too, whose
# kernel uses 16 KiB pages: nothing in vitrine assumes 4 KiB pages.
CROSS_COMPILE ?= aarch64-linux-gnu-
DEB_ARCH := arm64
MULTIARCH := aarch64-linux-gnu
QEMU := qemu-aarch64
BOARD_CFLAGS := -march=armv8-a+crc -mtune=cortex-a72
# No unwind tables (.eh_frame): C without exceptions, backtrace() or thread
# cancellation never reads them, and the -dbgsym package's .debug_frame
# serves gdb. They were 28 KB of the agent's 248 KB stripped, and take the
# agent and its three plugins under 400 KB together (make bench).
BOARD_CFLAGS += -fno-asynchronous-unwind-tables -fno-unwind-tables
# Segments aligned for 16 KiB pages (the Pi 5's kernel; 4 KiB elsewhere)
# rather than the linker's 64 KiB default for arm64, which no Raspberry Pi
# kernel uses: stripped files shrink by up to 16 KB each (the padding
# between segments), the code does not change.
BOARD_LDFLAGS := -Wl,-z,max-page-size=16384
include boards/cross.mk
# No real-time clock: the packaged agent.conf waits for NTP (docs/CONFIG.md).
BOARD_CLOCK_REQUIRE_SYNC := yes
