#!/bin/sh
# Run every Check unit-test binary in $1; fail if any fails. Check prints its own summary per suite.
set -u
dir=$1
status=0
ran=0
for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	ran=$((ran + 1))
	CK_FORK=yes "$t" || status=1
done
[ "$ran" -gt 0 ] || { echo "unit: no test binaries in $dir"; exit 1; }
exit $status
