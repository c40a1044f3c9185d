#!/bin/sh
# boards/add-arch.sh ARCH - let apt fetch Debian's ARCH packages (for the
# sysroot of a cross board): dpkg --add-architecture, then apt-get update.
# The update may fail on one of ARCH's indexes (a mirror caught between two
# syncs of, say, the security archive): that is a warning here, since
# boards/sysroot.sh then fails with apt's own message if a package it needs
# is really missing.
set -eu
arch=$1
if [ "$(dpkg --print-architecture)" = "$arch" ] ||
   dpkg --print-foreign-architectures | grep -qx "$arch"; then
	exit 0
fi
dpkg --add-architecture "$arch"
if ! apt-get update -q >/dev/null 2>&1; then
	echo "add-arch: apt-get update reported errors after adding $arch (an index missing?); going on" >&2
	apt-get update 2>&1 | grep -E '^(E|W):' | head -n 5 >&2 || true
fi
