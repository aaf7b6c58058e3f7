#!/bin/sh
# Benchmarks (not tests): each runs inside one KVM test-host boot, lbvm side by side with QEMU-KVM, and
# prints medians and ratios. Absolute times under the emulated test host mean little; ratios do.
#   bench/run.sh LBVM [SUITE,...]   (default: bench)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
HOST_OUT=${HOST_OUT:-$root/build/bench} "$root/tests/host/run.sh" "$1" "${2:-bench}"
echo "bench: results"
grep '^LBVM-TEST: BENCH' "${HOST_OUT:-$root/build/bench}/results.txt" | sed 's/^LBVM-TEST: BENCH /  /'
