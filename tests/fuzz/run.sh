#!/bin/sh
# Build every tests/fuzz/fuzz_*.c as a libFuzzer binary (clang, ASan + UBSan) and run each in turn, one
# at a time (shared machines). Corpora live in tests/fuzz/corpus-<name>/ (gitignored), crashes in
# build/fuzz/artifacts/. Fails when a target finds a crash or cannot be built.
#
#   tests/fuzz/run.sh [SECONDS] [NAME...]      a bounded run of SECONDS each (default 25; make check)
#   tests/fuzz/run.sh --runs N [NAME...]       N executions each (the long runs in docs/fuzzing.md)
#
# NAME is a target without its fuzz_ prefix (uart, ahci, ...); none means every target.
set -eu
limit="-max_total_time=25"
if [ "${1:-}" = --runs ]; then
	limit="-runs=$2"
	shift 2
elif [ $# -gt 0 ] && [ "$1" -eq "$1" ] 2>/dev/null; then
	limit="-max_total_time=$1"
	shift
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# The library, instrumented for coverage and the sanitizers (one compile at a time: shared machines).
make --no-print-directory BUILD=build/fuzz CC=clang SAN="$san" CFLAGS="-O1 -g" build/fuzz/liblbvm.a
pkgs="libcurl ext2fs com_err libelf zlib libcrypto libseccomp libarchive json-c slirp"
libs="$(pkg-config --libs $pkgs) -lpthread"
mkdir -p build/fuzz/artifacts
if [ $# -gt 0 ]; then
	srcs=
	for n in "$@"; do
		[ -f "tests/fuzz/fuzz_$n.c" ] || { echo "fuzz: no target tests/fuzz/fuzz_$n.c"; exit 1; }
		srcs="$srcs tests/fuzz/fuzz_$n.c"
	done
else
	srcs=$(ls tests/fuzz/fuzz_*.c)
fi
status=0
for src in $srcs; do
	name=$(basename "$src" .c)
	bin=build/fuzz/$name
	clang -std=c11 -D_GNU_SOURCE -I. -O1 -g -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
		-o "$bin" "$src" build/fuzz/liblbvm.a $libs
	corpus=tests/fuzz/corpus-${name#fuzz_}
	mkdir -p "$corpus"
	echo "fuzz: $name ($limit, corpus $corpus)"
	start=$(date +%s)
	if ! "$bin" "$limit" -timeout=10 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/artifacts/ "$corpus" 2>build/fuzz/$name.log; then
		tail -n 40 build/fuzz/$name.log
		echo "fuzz: $name FAILED (artifacts in build/fuzz/artifacts/)"
		status=1
		continue
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' build/fuzz/$name.log)
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+' build/fuzz/$name.log | tail -n 1)
	echo "fuzz: $name ok: $execs executions in $(( $(date +%s) - start )) s, $cov, 0 findings"
done
exit $status
