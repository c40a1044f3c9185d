# boards/cross.mk - what every cross-compiled board shares; its board.mk sets
# CROSS_COMPILE, DEB_ARCH, MULTIARCH (the Debian triplet), QEMU and
# BOARD_CFLAGS, then includes this file.
#
# The target's libraries come from a sysroot: Debian's DEB_ARCH packages
# unpacked under $(O)/sysroot by `make sysroot` (boards/sysroot.sh, run by
# `make deps BOARD=...`). The compiler and the linker get --sysroot, and
# pkg-config reads only the sysroot's .pc files. With SYSROOT= (empty) the
# build uses multiarch packages installed on this machine instead
# (apt-get install libmosquitto-dev:$(DEB_ARCH) ...), found by the
# $(MULTIARCH)-pkg-config that pkgconf provides.

SYSROOT ?= $(O)/sysroot
SYSROOT_PACKAGES := libc6-dev libmosquitto-dev libprotobuf-c-dev libmbedtls-dev \
	libzstd-dev libsqlite3-dev libcjson-dev libgpiod-dev libmicrohttpd-dev libssl-dev

ifneq ($(SYSROOT),)
SYSROOT_ABS := $(abspath $(SYSROOT))
BOARD_CFLAGS += --sysroot=$(SYSROOT_ABS)
PKG_CONFIG := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT_ABS) \
	PKG_CONFIG_LIBDIR=$(SYSROOT_ABS)/usr/lib/$(MULTIARCH)/pkgconfig:$(SYSROOT_ABS)/usr/share/pkgconfig \
	pkg-config
# The emulator finds the dynamic loader and the libraries in the sysroot.
QEMU_RUN := $(QEMU) -L $(SYSROOT_ABS)
else
PKG_CONFIG ?= $(MULTIARCH)-pkg-config
QEMU_RUN := $(QEMU) -L /
endif

ifneq ($(SYSROOT),)
BOARD_PREREQ := $(SYSROOT_ABS)/.vitrine-sysroot
$(SYSROOT_ABS)/.vitrine-sysroot: boards/cross.mk boards/sysroot.sh
	$(Q)boards/sysroot.sh $(DEB_ARCH) $(SYSROOT_ABS) $(SYSROOT_PACKAGES)
endif
sysroot: $(BOARD_PREREQ)
.PHONY: sysroot

# What `make deps BOARD=...` installs beyond the native packages: the cross
# compiler (gcc-aarch64-linux-gnu...) and qemu-user, which runs the tests.
BOARD_DEB_PACKAGES := gcc-$(patsubst %-,%,$(CROSS_COMPILE)) qemu-user
