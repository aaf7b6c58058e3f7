#!/bin/sh
# Run every test_*.sh in DIR (default: this folder) against the lbvm binary given as $1. Each script prints
# "PASS name" / "FAIL name: why" / "SKIP name: why" lines and, as its very last line, "END": a script
# that exits non-zero, or ends without END (it stopped before its last check), fails the run.
#   tests/cli/run.sh LBVM [DIR]
set -u
lbvm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
dir=${2:-$here}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/log"
scripts=0
for t in "$dir"/test_*.sh; do
	[ -f "$t" ] || continue
	scripts=$((scripts + 1))
	name=$(basename "$t")
	echo "== $name"
	# Shown as it comes, kept for the count; the status is the script's own, not the pipeline's.
	{ LBVM="$lbvm" sh "$t" 2>&1; echo "$?" >"$work/rc"; } | tee "$work/out"
	rc=$(cat "$work/rc")
	if [ "$rc" != 0 ]; then
		echo "FAIL $name: the script exited with status $rc" | tee -a "$work/out"
	elif [ "$(tail -n 1 "$work/out")" != END ]; then
		echo "FAIL $name: the script ended before its last check (no END line)" | tee -a "$work/out"
	fi
	cat "$work/out" >>"$work/log"
done
pass=$(grep -c '^PASS ' "$work/log")
fail=$(grep -c '^FAIL ' "$work/log")
skip=$(grep -c '^SKIP ' "$work/log")
echo "cli: $pass passed, $fail failed, $skip skipped in $scripts script(s)"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
