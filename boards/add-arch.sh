#!/bin/sh
# boards/add-arch.sh ARCH - let apt fetch Debian's ARCH packages (for the
# sysroot of a cross board): dpkg --add-architecture, then apt-get update.
# The update may fail on one of ARCH's indexes (a mirror caught between two
# syncs of, say, the security archive): boards/apt-update.sh retries, then
# warns, since boards/sysroot.sh fails with apt's own message if a package
# it needs is really missing.
set -eu
arch=$1
if [ "$(dpkg --print-architecture)" = "$arch" ] ||
   dpkg --print-foreign-architectures | grep -qx "$arch"; then
	exit 0
fi
dpkg --add-architecture "$arch"
"$(dirname "$0")/apt-update.sh"
