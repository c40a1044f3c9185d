#!/usr/bin/env bash
# boards/sysroot.sh - the target's libraries for a cross build, in a folder.
#
#   boards/sysroot.sh ARCH DIR PACKAGE...
#
# Downloads Debian's ARCH build of PACKAGE... and everything they depend on
# (apt resolves it against an empty package database, so what this machine
# has installed does not matter), and unpacks them into DIR: DIR/usr/include,
# DIR/usr/lib/<triplet>, their pkg-config files. The compiler then builds
# with --sysroot=DIR and pkg-config looks only there (boards/cross.mk), and
# qemu-user runs the result with -L DIR.
#
# Why not install libmosquitto-dev:arm64 beside the native libraries
# (multiarch)? That works when both architectures are at the same version of
# every Multi-Arch: same library; a machine that took a security update of,
# say, libssl3 for amd64 before the arm64 index had it cannot install the
# arm64 one at all. Unpacking into a folder needs no such luck, and does not
# touch the machine's own libraries. A machine that has the multiarch
# packages installed can still build with SYSROOT= (empty): see
# boards/cross.mk.
#
# Needs the architecture in dpkg's list (dpkg --add-architecture ARCH, as
# root; `make deps BOARD=...` does it) and its package index (apt-get
# update). The folder is rebuilt only when the package list changes.
set -eu
if [ $# -lt 3 ]; then
	echo "usage: $0 ARCH DIR PACKAGE..." >&2
	exit 2
fi
arch=$1 dir=$2
shift 2
want="$arch $* (shlibs, symbols)"

if [ -f "$dir/.vitrine-sysroot" ] && [ "$(cat "$dir/.vitrine-sysroot")" = "$want" ]; then
	exit 0
fi
if ! dpkg --print-foreign-architectures | grep -qx "$arch" &&
   [ "$(dpkg --print-architecture)" != "$arch" ]; then
	echo "sysroot: dpkg does not know the architecture $arch; as root run:" >&2
	echo "  dpkg --add-architecture $arch && apt-get update" >&2
	echo "(or: make deps BOARD=<board>)" >&2
	exit 1
fi

work="$dir.tmp"
rm -rf "$work"
mkdir -p "$work/debs/partial" "$work/root"
: >"$work/status"
# An empty dpkg database: apt plans the whole closure for ARCH alone.
if ! apt-get install -y -q --download-only --no-install-recommends \
	-o Dir::State::status="$work/status" \
	-o Dir::Cache::archives="$work/debs" \
	-o APT::Architecture="$arch" -o APT::Architectures::="$arch" \
	-o Debug::NoLocking=1 "$@" >"$work/apt.log" 2>&1; then
	echo "sysroot: apt could not fetch the $arch packages ($*):" >&2
	tail -n 15 "$work/apt.log" >&2
	echo "sysroot: is the $arch package index there? (apt-get update after dpkg --add-architecture $arch)" >&2
	exit 1
fi
n=0
for deb in "$work"/debs/*.deb; do
	dpkg-deb -x "$deb" "$work/root"
	# Its shlibs and symbols files, where dpkg keeps them: `make deb`
	# computes the packages' dependencies from them (platform/debian/mkdeb.sh).
	pkg=$(dpkg-deb -f "$deb" Package)
	mkdir -p "$work/root/var/lib/dpkg/info"
	for f in shlibs symbols; do
		dpkg-deb --info "$deb" "$f" >"$work/root/var/lib/dpkg/info/$pkg.$f" 2>/dev/null ||
			rm -f "$work/root/var/lib/dpkg/info/$pkg.$f"
	done
	n=$((n + 1))
done
# Absolute symbolic links (libm.so -> /lib/<triplet>/libm.so.6) would point
# at this machine's own files: make them point inside the folder.
find "$work/root" -type l -lname '/*' | while read -r link; do
	target=$(readlink "$link")
	ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$work/root$target")" "$link"
done
echo "$want" >"$work/root/.vitrine-sysroot"
rm -rf "$dir"
mv "$work/root" "$dir"
rm -rf "$work"
echo "sysroot: $n $arch packages unpacked in $dir"
