#!/usr/bin/env bash
# tests/fuzz/run.sh - build every tests/fuzz/fuzz_*.c as a libFuzzer binary
# (clang, ASan + UBSan) and run each for FUZZ_SECONDS on a working copy of
# its corpus. This is what `make fuzz` calls; `make test` only replays the
# committed corpora (see replay_main.c).
#
# Environment:
#   O             output directory (default build/fuzz); binaries in $O/fuzz/,
#                 the instrumented libvt in $O/lib/, logs and working corpora
#                 in $O/fuzz/<target>/
#   FUZZ_SECONDS  seconds per target (default 60); 0 builds the targets and
#                 runs each over its corpus once, without fuzzing
#   FUZZ_CC       compiler (default clang)
#   FUZZ_TARGETS  a grep -E pattern to pick targets (default: all)
#
# A target is tests/fuzz/fuzz_<x>.c with LLVMFuzzerTestOneInput(), plus the
# sources in the Makefile variable fuzz_<x>_SRCS and the libraries in
# fuzz_<x>_LIBS if they are set; its seeds
# are in tests/fuzz/corpus/<x>/ (optional) and tests/fuzz/<x>.dict is passed
# as a dictionary if present. The libraries are built by the Makefile itself
# and the compile flags and libraries are read from it (VT_CFLAGS,
# VT_LDFLAGS, LIBS), so include paths, defines and generated code stay in
# step with the normal build. New findings land in $O/fuzz/<x>/crash-* etc.;
# copy a fixed one into the committed corpus so `make test` keeps it fixed.
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${O:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_CC=${FUZZ_CC:-clang}
pattern=${FUZZ_TARGETS:-.}
MAKE=${MAKE:-make}

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
lib_cflags="-O1 -g $san -fsanitize=fuzzer-no-link"
libdir=$O/lib
bindir=$O/fuzz

if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
	echo "SKIP fuzz: $FUZZ_CC not found (libFuzzer needs clang)"
	exit 0
fi

# make with the fuzzing compiler and flags; extra arguments are targets.
vt_make() {
	"$MAKE" --no-print-directory O="$libdir" CC="$FUZZ_CC" CFLAGS="$lib_cflags" "$@"
}

# The value of a Makefile variable, as the fuzz build would see it.
# shellcheck disable=SC2016 # $($*) is for make, not the shell
make_var() {
	vt_make -s --eval 'vt-fuzz-print-%: ; @echo $($*)' "vt-fuzz-print-$1"
}

echo "building instrumented libvt in $libdir"
if ! vt_make "$libdir/libvt.a" "$libdir/libvtagg.a"; then
	echo "FAIL fuzz: could not build libvt with $FUZZ_CC"
	exit 1
fi
vt_cflags=$(make_var VT_CFLAGS) && vt_ldflags=$(make_var VT_LDFLAGS) && libs=$(make_var LIBS)
if [ -z "$vt_cflags" ]; then
	echo "FAIL fuzz: could not read VT_CFLAGS from the Makefile"
	exit 1
fi
mkdir -p "$bindir"

passed=0 failed=0
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	target=$(basename "$src" .c)
	x=${target#fuzz_}
	echo "$target" | grep -qE "$pattern" || continue
	bin=$bindir/$target
	work=$bindir/$x
	log=$work/fuzz.log
	mkdir -p "$work/corpus"
	# Code under test outside the libraries (a plugin's parser), compiled
	# into the target as the replay build links it in.
	extra=$(make_var "fuzz_${x}_SRCS")
	extra_libs=$(make_var "fuzz_${x}_LIBS")

	# shellcheck disable=SC2086 # the flag strings are word lists
	if ! "$FUZZ_CC" $vt_cflags -fsanitize=fuzzer $vt_ldflags -o "$bin" "$src" $extra \
		"$libdir/libvtagg.a" "$libdir/libvt.a" $libs $extra_libs; then
		echo "FAIL $target: does not build"
		failed=$((failed + 1))
		continue
	fi
	# Keep what earlier runs found; add the committed seeds.
	if [ -d "tests/fuzz/corpus/$x" ]; then
		cp -n tests/fuzz/corpus/"$x"/* "$work/corpus/" 2>/dev/null
	fi
	args=(-artifact_prefix="$work/" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
	[ -f "tests/fuzz/$x.dict" ] && args+=(-dict="tests/fuzz/$x.dict")
	if [ "$FUZZ_SECONDS" = 0 ]; then
		args+=(-runs=0)
	else
		args+=(-max_total_time="$FUZZ_SECONDS")
	fi
	echo "running $target for ${FUZZ_SECONDS}s (log: $log)"
	if "$bin" "${args[@]}" "$work/corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		inputs=$(find "$work/corpus" -type f | wc -l)
		echo "PASS $target (${runs:-?} runs, corpus $inputs inputs)"
		passed=$((passed + 1))
	else
		echo "FAIL $target: see $log; reproducer in $work/"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' \
			"$log" | head -n 20 | sed 's/^/    | /'
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
