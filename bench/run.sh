#!/bin/sh
# Benchmarks (not tests), each printing medians and ratios:
#   - boot time, disk and network throughput: lbvm against QEMU-KVM inside one KVM test-host boot (absolute times
#     under the emulated host mean little; the ratios do);
#   - lbvm mkdisk against mke2fs -d on a tree of ~10k files (bench/mkdisk.sh).
#   bench/run.sh LBVM
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/bench/mkdisk.sh" "$1"
out=${HOST_OUT:-$root/build/bench}
HOST_OUT=$out "$root/tests/host/run.sh" "$1" bench,bench-disk,bench-net
echo "bench: results"
grep '^LBVM-TEST: BENCH' "$out/results.txt" | sed 's/^LBVM-TEST: BENCH /  /'
