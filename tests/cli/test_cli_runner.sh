#!/bin/sh
# The CLI test runner (tests/cli/run.sh) against small test scripts made here: a script that exits non-zero
# or stops before its last check must fail the run, whatever it printed before.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# runner CASE: run tests/cli/run.sh over $work/CASE; sets $rc
runner() { sh "$here/run.sh" /bin/true "$work/$1" >"$work/$1.out" 2>&1; rc=$?; }
# expect CASE WANT-RC TEXT
expect() {
	if [ "$rc" = "$2" ] && grep -q -- "$3" "$work/$1.out"; then
		echo "PASS cli_runner_$1"
	else
		echo "FAIL cli_runner_$1: exit $rc (want $2), output: $(tr '\n' '|' <"$work/$1.out")"
	fi
}
script() { mkdir -p "$work/$1"; printf '%s\n' "$3" >"$work/$1/test_$2.sh"; }

script good one 'echo "PASS x"
echo END'
runner good
expect good 0 "cli: 1 passed, 0 failed, 0 skipped in 1 script"

script exits_nonzero one 'echo "PASS x"
echo END
exit 3'
runner exits_nonzero
expect exits_nonzero 1 "FAIL test_one.sh: the script exited with status 3"

# Dies half-way with status 0 (as `exit 0` in a wrong branch would): no END, so it fails.
script stops_early one 'echo "PASS x"
exit 0
echo "PASS y"
echo END'
runner stops_early
expect stops_early 1 "FAIL test_one.sh: the script ended before its last check"

# A failing script among passing ones still fails the run.
script mixed a 'echo "PASS a"
echo END'
script mixed b 'echo "FAIL b: broken"
echo END'
runner mixed
expect mixed 1 "cli: 1 passed, 1 failed"

script nothing one 'echo END'
runner nothing
expect nothing 1 "cli: 0 passed, 0 failed"
echo END
