#!/bin/sh
# Build every tests/fuzz/fuzz_*.c as a libFuzzer binary (clang, ASan + UBSan) and run each for $1 seconds
# (default 60). Corpora live in tests/fuzz/corpus-<name>/ (gitignored), crashes in build/fuzz/artifacts/.
# Fails when a target finds a crash or cannot be built. Longer runs: tests/fuzz/run.sh 600
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# The library, instrumented for coverage and the sanitizers (one compile at a time: shared machines).
make --no-print-directory BUILD=build/fuzz CC=clang SAN="$san" CFLAGS="-O1 -g" build/fuzz/liblbvm.a
pkgs="libcurl ext2fs com_err libelf zlib libcrypto libseccomp slirp"
libs="$(pkg-config --libs $pkgs) -lpthread"
mkdir -p build/fuzz/artifacts
status=0
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	bin=build/fuzz/$name
	clang -std=c11 -D_GNU_SOURCE -I. -O1 -g -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
		-o "$bin" "$src" build/fuzz/liblbvm.a $libs
	corpus=tests/fuzz/corpus-${name#fuzz_}
	mkdir -p "$corpus"
	echo "fuzz: $name for ${seconds}s (corpus $corpus)"
	if ! "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/artifacts/ "$corpus" 2>build/fuzz/$name.log; then
		tail -n 40 build/fuzz/$name.log
		echo "fuzz: $name FAILED (artifacts in build/fuzz/artifacts/)"
		status=1
		continue
	fi
	grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov:' build/fuzz/$name.log | tail -n 3
	echo "fuzz: $name ok"
done
exit $status
