#!/bin/sh
# Run every tests/cli/test_*.sh against the lbvm binary given as $1. Each script prints
# "PASS name" / "FAIL name: why" / "SKIP name: why" lines; this totals them.
set -u
lbvm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$here"/test_*.sh; do
	[ -f "$t" ] || continue
	echo "== $(basename "$t")"
	LBVM="$lbvm" sh "$t" 2>&1 | tee -a "$log" || echo "FAIL $(basename "$t"): script exited non-zero" | tee -a "$log"
done
pass=$(grep -c '^PASS ' "$log")
fail=$(grep -c '^FAIL ' "$log")
skip=$(grep -c '^SKIP ' "$log")
echo "cli: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
