# platform/debian/deb.mk - `make deb`: vitrine's Debian packages for the
# board's architecture, in $(O)/deb/. Included by the top-level Makefile;
# what each package holds and how to install it: platform/debian/README.md.
#
#   make deb                       amd64 (this machine: BOARD=host)
#   make deb BOARD=rpi4-arm64      arm64, cross-built against the board's sysroot
#   make deb-lint                  lintian on what make deb made; fails on an error
#
# The programs are built again with PREFIX=/usr in $(O)/deb/build (the
# agent's default plugin_dir is compiled in), `make install`ed into
# $(O)/deb/stage, and platform/debian/mkdeb.sh splits that tree into
# packages, strips them (debug symbols into -dbgsym .ddeb files), computes
# their dependencies with dpkg-shlibdeps and builds them with dpkg-deb.
# It needs dpkg-dev; nothing here needs root or fakeroot.
#
# DEB_ARCH comes from boards/$(BOARD)/board.mk. For a cross board the
# libraries' dependency information comes from the sysroot
# (DEB_SYSROOT, by default the board's SYSROOT; empty for multiarch
# packages installed on this machine): see mkdeb.sh.

DEB_ARCH ?= $(shell dpkg --print-architecture)
DEB_OUT := $(O)/deb
DEB_DBGSYM ?= 1
DEB_SYSROOT ?= $(SYSROOT)
# Runs a program of the target: --help makes the manual pages.
DEB_RUN ?= $(QEMU_RUN)

# The recursive make sees the same board, with its sysroot where this one
# has it (cross.mk derives the default from O, which changes here).
VT_DEB_MAKEFLAGS := --no-print-directory -f $(firstword $(MAKEFILE_LIST)) \
	O=$(DEB_OUT)/build PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/lib/systemd/system \
	PKGCONFIGDIR=/usr/share/pkgconfig \
	$(if $(filter undefined,$(origin SYSROOT)),,SYSROOT='$(SYSROOT)')

deb:
	$(Q)rm -rf $(DEB_OUT)/stage
	$(Q)$(MAKE) $(VT_DEB_MAKEFLAGS) DESTDIR=$(abspath $(DEB_OUT)/stage) install
	$(Q)DEB_OUT=$(abspath $(DEB_OUT)) DEB_ARCH=$(DEB_ARCH) VERSION=$(VERSION) \
		DEB_SYSROOT='$(if $(DEB_SYSROOT),$(abspath $(DEB_SYSROOT)))' DEB_DBGSYM=$(DEB_DBGSYM) \
		DEB_RUN='$(DEB_RUN)' CROSS_COMPILE=$(CROSS_COMPILE) \
		platform/debian/mkdeb.sh

deb-lint:
	$(Q)ls $(DEB_OUT)/*.deb >/dev/null 2>&1 || { echo "make deb-lint: no package in $(DEB_OUT): run make deb first"; exit 1; }
	$(Q)lintian --fail-on error --allow-root $(DEB_OUT)/*.deb $(wildcard $(DEB_OUT)/*.ddeb)

.PHONY: deb deb-lint
