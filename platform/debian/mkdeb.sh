#!/usr/bin/env bash
# platform/debian/mkdeb.sh - turn a `make install` tree into vitrine's
# Debian packages. Run by `make deb` (platform/debian/deb.mk), from the top
# of the tree; not meant to be run by hand.
#
# In: $DEB_OUT/stage, what `make install DESTDIR=... PREFIX=/usr` wrote.
# Out: $DEB_OUT/<package>_<version>_<arch>.deb, and <package>-dbgsym_...ddeb
# with the debug symbols (DEB_DBGSYM=0: none). On the way, $DEB_OUT/debian/
# is laid out as debhelper would (control, changelog, one tree per package),
# because dpkg-shlibdeps and dpkg-gencontrol expect that layout.
#
# What it does per package, in the spirit of debhelper without needing it
# (nor root, nor fakeroot: dpkg-deb --root-owner-group):
#   - files from the stage, as platform/debian/<package>.install lists them;
#     a file of the stage that no package takes is an error;
#   - copyright, changelog.Debian.gz, README.Debian, docs (<package>.docs),
#     manual pages made from --help (help2man.sh), lintian overrides;
#   - modes: 0755 directories and programs, 0644 files, /etc/vitrine 0750
#     and its files 0640 (the postinst gives them to group vitrine);
#   - maintainer scripts with the shared user snippet (user.sh) put in;
#     every file under /etc is a conffile, as debhelper does;
#   - ELF files stripped as dh_strip does, debug symbols kept by build id;
#   - ${shlibs:Depends} from dpkg-shlibdeps, then dpkg-gencontrol, md5sums
#     and dpkg-deb.
#
# Dependencies of a cross build (DEB_ARCH not this machine's): dpkg-shlibdeps
# runs with DEB_HOST_ARCH=$DEB_ARCH and the target's objdump. It finds the
# libraries either
#   - in multiarch packages installed on this machine (DEB_SYSROOT empty):
#     dpkg's own database then knows their packages and symbols files; or
#   - in the sysroot DEB_SYSROOT (boards/sysroot.sh), with -l for its
#     library folders. No dpkg database knows those files, so the symbols
#     and shlibs files of the sysroot's packages are needed: mkdeb.sh reads
#     them from DEB_SYSROOT/var/lib/dpkg/info/<package>.{symbols,shlibs}
#     (where boards/sysroot.sh keeps them, or a real dpkg root made by
#     debootstrap/mmdebstrap has them) and lays each out as
#     debian/sysroot-<package>/DEBIAN/{symbols,shlibs}: dpkg-shlibdeps falls
#     back on the symbols and shlibs files of the package trees in debian/
#     for a library no installed package owns. The result is the same
#     versioned dependencies as a native build's.
set -euo pipefail

: "${DEB_OUT:?}" "${DEB_ARCH:?}" "${VERSION:?}"
DEB_SYSROOT=${DEB_SYSROOT:-}
DEB_DBGSYM=${DEB_DBGSYM:-1}
DEB_RUN=${DEB_RUN:-}
CROSS_COMPILE=${CROSS_COMPILE:-}
src=platform/debian
stage=$DEB_OUT/stage
work=$DEB_OUT/debian
build_arch=$(dpkg --print-architecture)

die() { echo "make deb: $*" >&2; exit 1; }
say() { echo "  DEB     $*"; }

# The target's binutils: the cross ones for a cross build.
tool() {
	if [ -n "$CROSS_COMPILE" ] && command -v "${CROSS_COMPILE}$1" >/dev/null; then
		echo "${CROSS_COMPILE}$1"
	else
		echo "$1"
	fi
}
STRIP=$(tool strip)
OBJCOPY=$(tool objcopy)

[ -d "$stage" ] || die "no $stage: make install did not run"
rm -rf "$work"
rm -f "$DEB_OUT"/*.deb "$DEB_OUT"/*.ddeb
mkdir -p "$work"
cp "$src/control" "$src/changelog" "$work/"

version=$(dpkg-parsechangelog -l "$src/changelog" -S Version)
[ "${version%-*}" = "$VERSION" ] ||
	die "platform/debian/changelog is at $version, the Makefile's VERSION is $VERSION: add a changelog entry"
# Reproducible: every time stamp is the changelog's.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$src/changelog" -S Timestamp)
export SOURCE_DATE_EPOCH
man_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)

packages=$(sed -n 's/^Package: *//p' "$src/control")

# ---- the stage, split into packages ---------------------------------------
for pkg in $packages; do
	tree=$work/$pkg
	mkdir -p "$tree"
	[ -f "$src/$pkg.install" ] || die "no $src/$pkg.install"
	while read -r pattern; do
		case "$pattern" in '' | '#'*) continue ;; esac
		found=0
		for f in "$stage"/$pattern; do
			[ -e "$f" ] || [ -L "$f" ] || continue
			rel=${f#"$stage"/}
			mkdir -p "$tree/$(dirname "$rel")"
			mv "$f" "$tree/$rel"
			found=1
		done
		if [ "$found" = 0 ]; then
			case "$pattern" in
			lib/systemd/system/*) die "$pkg: make install did not install $pattern: is platform/systemd/${pattern##*/} there?" ;;
			*) die "$pkg: make install did not install $pattern ($src/$pkg.install)" ;;
			esac
		fi
	done <"$src/$pkg.install"
done
left=$(cd "$stage" && find . ! -type d | sed 's#^\./##' | sort)
[ -z "$left" ] || die "installed but in no package (add it to a platform/debian/*.install): $left"

# The agent must look for plugins where vitrine-plugins puts them.
grep -aqF '[/usr/lib/vitrine/plugins]' "$work/vitrine-agent/usr/bin/vitrine-agent" ||
	die "vitrine-agent's default plugin_dir is not /usr/lib/vitrine/plugins (is VT_PLUGIN_DIR passed from PLUGINDIR in the Makefile?)"

# ---- sysroot: the target libraries' symbols and shlibs files ---------------
shlibdeps_opts=()
if [ "$DEB_ARCH" != "$build_arch" ] && [ -n "$DEB_SYSROOT" ]; then
	info=$DEB_SYSROOT/var/lib/dpkg/info
	n=0
	for f in "$info"/*.symbols "$info"/*.shlibs; do
		[ -f "$f" ] || continue
		base=$(basename "$f")
		name=${base%.*}
		name=${name%%:*}
		mkdir -p "$work/sysroot-$name/DEBIAN"
		cp "$f" "$work/sysroot-$name/DEBIAN/${base##*.}"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || die "the sysroot $DEB_SYSROOT has no var/lib/dpkg/info/*.symbols: its packages' dependency information is needed (rebuild it with boards/sysroot.sh: rm -rf $DEB_SYSROOT, then make sysroot BOARD=...)"
	triplet=$(dpkg-architecture -a"$DEB_ARCH" -qDEB_HOST_MULTIARCH 2>/dev/null)
	for d in "lib/$triplet" "usr/lib/$triplet" lib usr/lib; do
		[ -d "$DEB_SYSROOT/$d" ] && shlibdeps_opts+=("-l$DEB_SYSROOT/$d")
	done
fi

# ---- per package -----------------------------------------------------------
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

# subst FILE: FILE with the shared snippet in place of #VITRINE_USER#.
subst() {
	awk -v snippet="$src/user.sh" '
		/^#VITRINE_USER#$/ { while ((getline l < snippet) > 0) print l; close(snippet); next }
		{ print }' "$1"
}

for pkg in $packages; do
	tree=$work/$pkg
	doc=$tree/usr/share/doc/$pkg
	install -d "$doc"
	install -m 0644 "$src/copyright" "$doc/copyright"
	gzip -9nc "$src/changelog" >"$doc/changelog.Debian.gz"
	[ -f "$src/$pkg.README.Debian" ] && install -m 0644 "$src/$pkg.README.Debian" "$doc/README.Debian"
	if [ -f "$src/$pkg.docs" ]; then
		# SOURCE [NAME]: a file of the tree, compressed above 4 KiB (policy 12.3).
		while read -r from name; do
			case "$from" in '' | '#'*) continue ;; esac
			to=$doc/${name:-$(basename "$from")}
			mkdir -p "$(dirname "$to")"
			if [ "$(stat -c %s "$from")" -gt 4096 ]; then
				gzip -9nc "$from" >"$to.gz"
			else
				install -m 0644 "$from" "$to"
			fi
		done <"$src/$pkg.docs"
	fi
	if [ -f "$src/$pkg.lintian-overrides" ]; then
		install -D -m 0644 "$src/$pkg.lintian-overrides" "$tree/usr/share/lintian/overrides/$pkg"
	fi
	# A manual page per program, from its --help (run by DEB_RUN when
	# cross-built: qemu-user with the sysroot).
	for prog in "$tree"/usr/bin/*; do
		[ -f "$prog" ] || continue
		name=$(basename "$prog")
		help=$($DEB_RUN "$prog" --help) || die "$name --help failed${DEB_RUN:+ under $DEB_RUN}: it makes the manual page"
		install -d "$tree/usr/share/man/man1"
		printf '%s\n' "$help" | "$src/help2man.sh" "$name" 1 "$version" "$man_date" |
			gzip -9n >"$tree/usr/share/man/man1/$name.1.gz"
	done

	# Modes: what is expected, whatever the umask of the build.
	find "$tree" -type d -exec chmod 0755 {} +
	find "$tree" -type f -exec chmod 0644 {} +
	[ -d "$tree/usr/bin" ] && chmod 0755 "$tree"/usr/bin/*
	if [ -d "$tree/etc/vitrine" ]; then
		chmod 0750 "$tree/etc/vitrine"
		find "$tree/etc/vitrine" -type f -exec chmod 0640 {} +
	fi

	# Strip; the debug symbols go to <pkg>-dbgsym under their build id.
	elves=()
	build_ids=()
	while IFS= read -r -d '' f; do
		is_elf "$f" || continue
		elves+=("$f")
		if [ "$DEB_DBGSYM" = 1 ]; then
			id=$(LC_ALL=C readelf -n "$f" | sed -n 's/^ *Build ID: *//p' | head -n 1)
			[ -n "$id" ] || die "$f has no build id (-Wl,--build-id) for its debug symbols"
			dbg=$work/$pkg-dbgsym/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
			mkdir -p "$(dirname "$dbg")"
			"$OBJCOPY" --only-keep-debug --compress-debug-sections "$f" "$dbg"
			chmod 0644 "$dbg"
			build_ids+=("$id")
		fi
		case "$f" in
		*.so) "$STRIP" --remove-section=.comment --remove-section=.note --strip-unneeded "$f" ;;
		*) "$STRIP" --remove-section=.comment --remove-section=.note "$f" ;;
		esac
		[ "$DEB_DBGSYM" = 1 ] && "$OBJCOPY" --add-gnu-debuglink="$dbg" "$f"
	done < <(find "$tree" -type f -print0 | sort -z)

	# Control area.
	ctl=$tree/DEBIAN
	install -d -m 0755 "$ctl"
	for script in preinst postinst prerm postrm; do
		if [ -f "$src/$pkg.$script" ]; then
			subst "$src/$pkg.$script" >"$ctl/$script"
			chmod 0755 "$ctl/$script"
		fi
	done
	[ -f "$src/$pkg.triggers" ] && install -m 0644 "$src/$pkg.triggers" "$ctl/triggers"
	if [ -d "$tree/etc" ]; then
		(cd "$tree" && find etc -type f | sort | sed 's#^#/#') >"$ctl/conffiles"
		chmod 0644 "$ctl/conffiles"
	fi
	(cd "$tree" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' |
		LC_ALL=C sort -z | xargs -0r md5sum) >"$ctl/md5sums"
	chmod 0644 "$ctl/md5sums"

	: >"$work/$pkg.substvars"
	if [ "${#elves[@]}" -gt 0 ]; then
		(cd "$DEB_OUT" && DEB_HOST_ARCH=$DEB_ARCH dpkg-shlibdeps -Tdebian/$pkg.substvars \
			"${shlibdeps_opts[@]}" "${elves[@]/#/-e}") ||
			die "$pkg: dpkg-shlibdeps failed"
	fi
	(cd "$DEB_OUT" && DEB_HOST_ARCH=$DEB_ARCH dpkg-gencontrol -p"$pkg" -P"debian/$pkg" \
		-T"debian/$pkg.substvars" -fdebian/files) || die "$pkg: dpkg-gencontrol failed"
	dpkg-deb --build --root-owner-group -Zxz "$tree" "$DEB_OUT/" >/dev/null
	say "$(cd "$DEB_OUT" && ls "${pkg}"_*.deb): $(sed -n 's/^Depends: //p' "$ctl/control")"

	if [ "$DEB_DBGSYM" = 1 ] && [ "${#build_ids[@]}" -gt 0 ]; then
		dtree=$work/$pkg-dbgsym
		find "$dtree" -type d -exec chmod 0755 {} +
		install -d "$dtree/usr/share/doc"
		ln -s "$pkg" "$dtree/usr/share/doc/$pkg-dbgsym"
		install -d -m 0755 "$dtree/DEBIAN"
		(cd "$DEB_OUT" && DEB_HOST_ARCH=$DEB_ARCH dpkg-gencontrol -p"$pkg" -P"debian/$pkg-dbgsym" \
			-fdebian/files.dbgsym -DPackage="$pkg-dbgsym" -DSection=debug -DPriority=optional \
			-DDepends="$pkg (= $version)" -DAuto-Built-Package=debug-symbols \
			-DPackage-Type=ddeb -DDescription="debug symbols for $pkg" \
			-DBuild-Ids="${build_ids[*]}" -URecommends -USuggests -UEnhances -UMulti-Arch \
			-T"debian/$pkg.substvars") || die "$pkg-dbgsym: dpkg-gencontrol failed"
		(cd "$dtree" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z |
			xargs -0r md5sum) >"$dtree/DEBIAN/md5sums"
		dpkg-deb --build --root-owner-group -Zxz "$dtree" \
			"$DEB_OUT/${pkg}-dbgsym_${version}_${DEB_ARCH}.ddeb" >/dev/null
	fi
done
rm -rf "$stage"
say "$(ls "$DEB_OUT"/*.deb | wc -l) packages for $DEB_ARCH in $DEB_OUT"
