# boards/rpi4/board.mk - Raspberry Pi 3/4/Zero 2 W (and 5), 64-bit Raspberry Pi OS / Debian.
# Cross-build on Debian 12:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install gcc-aarch64-linux-gnu qemu-user-static pkgconf:arm64 \
#       libmosquitto-dev:arm64 libprotobuf-c-dev:arm64 libmbedtls-dev:arm64 \
#       libzstd-dev:arm64 libsqlite3-dev:arm64
#   make BOARD=rpi4
# These cores have CRC32 but no AES/PMULL instructions: never +crypto, and
# keep the default AEAD (ChaCha20-Poly1305).
CROSS_COMPILE ?= aarch64-linux-gnu-
BOARD_CFLAGS := -march=armv8-a+crc
