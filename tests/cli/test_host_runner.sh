#!/bin/sh
# The KVM test host's supervisor (tests/host/supervise.sh) against a stand-in emulator that prints scripted
# console output, one script per boot: the retry policy must never turn a failure into a pass. Each case
# runs in a second or two (short stall and quiet limits); no real test host boots.
set -u
here=$(cd "$(dirname "$0")" && pwd)
supervise=$here/../host/supervise.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The stand-in: boot N prints $PLAN/boot.N, line by line, with the console's CR LF. Directives: "@stall"
# (silence until killed), "@beat" (heartbeats only, until killed), "@exit N". It records its -append.
mkdir -p "$work/bin" "$work/scen"
cat >"$work/bin/qemu" <<'EOF'
#!/bin/sh
n=$(($(cat "$PLAN/count" 2>/dev/null || echo 0) + 1))
echo "$n" >"$PLAN/count"
while [ $# -gt 0 ]; do [ "$1" = -append ] && echo "$2" >"$PLAN/append.$n"; shift; done
[ -f "$PLAN/boot.$n" ] || { echo "stand-in: no plan for boot $n"; exit 1; }
while IFS= read -r line; do
	case "$line" in
	@stall) exec sleep 1000 ;;
	@beat) while :; do printf 'LBVM-HEARTBEAT: 1\r\n'; sleep 0.1; done ;;
	@exit*) exit "${line#@exit }" ;;
	*) printf '%s\r\n' "$line" ;;
	esac
done <"$PLAN/boot.$n"
EOF
chmod +x "$work/bin/qemu"
# Two suites: a (scenarios a1, a2) and b (b1).
printf 'begin a1\nbegin a2\n' >"$work/scen/a.sh"
printf 'begin b1\n' >"$work/scen/b.sh"

# Console output of whole suites, for the plans.
a_ok="LBVM-TEST: SUITE a
LBVM-TEST: BEGIN a1
LBVM-TEST: PASS a1
LBVM-TEST: BEGIN a2
LBVM-TEST: PASS a2"
b_ok="LBVM-TEST: SUITE b
LBVM-TEST: BEGIN b1
LBVM-TEST: PASS b1"
done_line="LBVM-TEST: DONE after 1 s"

# plan CASE BOOT TEXT: what the stand-in prints in that boot of the case
plan() { mkdir -p "$work/$1"; printf '%s\n' "$3" >"$work/$1/boot.$2"; }
# supervise CASE [ALLOW-LIST TEXT]: run the supervisor on suites $SUITES (default a,b); sets $rc, output in
# $work/CASE/out
supervise() {
	c=$work/$1
	printf '%s\n' "${2:-# empty}" >"$c/allow.txt"
	PLAN=$c HOST_QEMU=$work/bin/qemu HOST_SCENARIOS=$work/scen HOST_ALLOW=$c/allow.txt HOST_OUT=$c/host \
		HOST_POLL=0.1 HOST_STALL=1 HOST_QUIET=3 HOST_TIMEOUT=60 \
		timeout 60 sh "$supervise" /nonexistent/kernel /nonexistent/initrd "${SUITES:-a,b}" >"$c/out" 2>&1
	rc=$?
}
boots() { cat "$work/$1/count" 2>/dev/null || echo 0; }
# check CASE WANT-RC WANT-BOOTS TEXT...: the exit status, the number of boots and lines of the output
check() {
	name=$1 want=$2 nboots=$3
	shift 3
	why=
	[ "$rc" = "$want" ] || why="exit $rc, want $want;"
	[ "$(boots "$name")" = "$nboots" ] || why="$why $(boots "$name") boots, want $nboots;"
	for text in "$@"; do
		grep -q -- "$text" "$work/$name/out" || why="$why no line with '$text';"
	done
	grep -q "^host: allow-list" "$work/$name/out" || why="$why the summary lacks the allow-list;"
	if [ -z "$why" ]; then
		echo "PASS host_runner_$name"
	else
		echo "FAIL host_runner_$name: $why output: $(tail -n 8 "$work/$name/out" | tr '\n' '|')"
	fi
}

plan all_pass 1 "$a_ok
$b_ok
$done_line"
supervise all_pass
check all_pass 0 1 "3 passed, 0 failed, 0 missing" "empty, so every failure counts"
grep -q "lbvmhost=a,b" "$work/all_pass/append.1" || echo "FAIL host_runner_suites_on_cmdline: $(cat "$work/all_pass/append.1")"

# A failure is final: no rerun boot that could pass it.
plan fail_counts 1 "LBVM-TEST: SUITE a
LBVM-TEST: BEGIN a1
LBVM-TEST: FAIL a1: exit 3
LBVM-TEST: BEGIN a2
LBVM-TEST: PASS a2
$b_ok
$done_line"
supervise fail_counts
check fail_counts 1 1 "host: FAIL a1: exit 3" "2 passed, 1 failed"

# Allow-listed, with evidence: the suite runs again and the pass in the rerun counts.
plan allowed_flaky 1 "$(cat "$work/fail_counts/boot.1")"
plan allowed_flaky 2 "$a_ok
$done_line"
supervise allowed_flaky "a1 seen wedged: outer kernel soft lockup in the log of boot 1"
check allowed_flaky 0 2 "FLAKY a1: failed, then passed; allowed" "allow-list .*: a1 seen wedged" "1 allowed flaky"
grep -q "lbvmhost=a$" "$work/allowed_flaky/append.2" || echo "FAIL host_runner_rerun_only_failed_suite: $(cat "$work/allowed_flaky/append.2")"

# Allow-listed but failing again: fails.
plan allowed_fails_twice 1 "$(cat "$work/fail_counts/boot.1")"
plan allowed_fails_twice 2 "LBVM-TEST: SUITE a
LBVM-TEST: BEGIN a1
LBVM-TEST: FAIL a1: exit 3
LBVM-TEST: BEGIN a2
LBVM-TEST: PASS a2
$done_line"
supervise allowed_fails_twice "a1 some evidence"
check allowed_fails_twice 1 2 "1 failed"

# An allow-list entry without evidence is refused before anything boots.
mkdir -p "$work/no_evidence"
supervise no_evidence "a1"
check_refused() {
	if [ "$rc" = 1 ] && [ "$(boots no_evidence)" = 0 ] && grep -q "no evidence given for a1" "$work/no_evidence/out"; then
		echo "PASS host_runner_no_evidence"
	else
		echo "FAIL host_runner_no_evidence: exit $rc, $(boots no_evidence) boots: $(tr '\n' '|' <"$work/no_evidence/out")"
	fi
}
check_refused

# A stall restarts the host for the suite it was in and those after; the results before it are kept.
plan stall_once 1 "$a_ok
LBVM-TEST: SUITE b
LBVM-TEST: BEGIN b1
@stall"
plan stall_once 2 "$b_ok
$done_line"
supervise stall_once
check stall_once 0 2 "3 passed, 0 failed, 0 missing" "1 stall(s) or crash(es), 0 of them crashes (in b)" "restarting the test host for suite(s) b"
grep -q "lbvmhost=b$" "$work/stall_once/append.2" || echo "FAIL host_runner_restart_suites: $(cat "$work/stall_once/append.2")"

# A FAIL printed before a stall stays: passing after the restart does not erase it.
plan fail_then_stall 1 "LBVM-TEST: SUITE a
LBVM-TEST: BEGIN a1
LBVM-TEST: FAIL a1: timed out
@stall"
plan fail_then_stall 2 "$a_ok
$b_ok
$done_line"
supervise fail_then_stall
check fail_then_stall 1 2 "FLAKY a1: failed, then passed in a later boot; this fails the run" "host: FAIL a1: timed out"

# The same suite stalling twice fails the run, however the rest goes.
plan stall_twice 1 "$a_ok
LBVM-TEST: SUITE b
@stall"
plan stall_twice 2 "LBVM-TEST: SUITE b
LBVM-TEST: BEGIN b1
@stall"
supervise stall_twice
check stall_twice 1 2 "suite b stopped the test host twice" "stopped the test host twice (stalls or crashes): this fails the run"

# Stalls in two different suites: two restarts, and the run passes when everything then passes.
plan two_stalls 1 "LBVM-TEST: SUITE a
@stall"
plan two_stalls 2 "$a_ok
LBVM-TEST: SUITE b
@stall"
plan two_stalls 3 "$b_ok
$done_line"
supervise two_stalls
check two_stalls 0 3 "2 stall(s) or crash(es), 0 of them crashes (in a b)"

# Half-stopped: heartbeats, but no result line for HOST_QUIET seconds, counts as a stall.
plan quiet 1 "$a_ok
LBVM-TEST: SUITE b
@beat"
plan quiet 2 "$b_ok
$done_line"
supervise quiet
check quiet 0 2 "1 stall(s) or crash(es), 0 of them crashes (in b)"

# A scenario that began but has no result, and one that never ran, are failures.
plan no_result 1 "$a_ok
LBVM-TEST: SUITE b
LBVM-TEST: BEGIN b1
$done_line"
supervise no_result
check no_result 1 1 "scenario b1 began but has no result"
plan never_ran 1 "$a_ok
$done_line"
supervise never_ran
check never_ran 1 1 "scenario b1 never ran"

# A test host whose kernel crashes (QEMU ends before DONE) is restarted like a stalled one, and the
# kernel's words are the evidence in the output; the scenario it was in runs again.
plan crash_once 1 "$a_ok
LBVM-TEST: SUITE b
LBVM-TEST: BEGIN b1
[  465.962310] BUG: TASK stack guard page was hit at 00000000b894f551
[  466.224150] Kernel panic - not syncing: Fatal exception in interrupt
@exit 0"
plan crash_once 2 "$b_ok
$done_line"
supervise crash_once
check crash_once 0 2 "boot 1: the test host's kernel crashed (QEMU exit 0): .*BUG: TASK stack guard page was hit" \
	"3 passed, 0 failed, 0 missing" "1 stall(s) or crash(es), 1 of them crashes (in b)"
# A host that ends before DONE every time (here with every result in) fails: the suite stopped it twice.
plan no_done 1 "$a_ok
$b_ok
@exit 0"
plan no_done 2 "$b_ok
@exit 0"
supervise no_done
check no_done 1 2 "did not finish" "suite b stopped the test host twice"
# Scenarios begun by a helper of the suite ("h NAME" calling begin "c-$1") are expected too: one that
# never ran fails the run.
printf 'h() {\n\tbegin "c-$1"\n\tpass\n}\nh one\nh two\n' >"$work/scen/c.sh"
plan helper_missing 1 "LBVM-TEST: SUITE c
LBVM-TEST: BEGIN c-one
LBVM-TEST: PASS c-one
$done_line"
SUITES=c supervise helper_missing
check helper_missing 1 1 "scenario c-two never ran" "1 passed, 0 failed, 1 missing" "2 scenario(s) expected"

# A begin whose name cannot be told from the script stops the run before anything boots.
printf 'h() {\n\tbegin "$current"\n}\nbegin d1\n' >"$work/scen/d.sh"
mkdir -p "$work/unknown_begin"
SUITES=d supervise unknown_begin
if [ "$rc" = 1 ] && [ "$(boots unknown_begin)" = 0 ] && grep -q 'd.sh:2: .*begin "$current"' "$work/unknown_begin/out" &&
	grep -q "nothing booted" "$work/unknown_begin/out"; then
	echo "PASS host_runner_unknown_begin"
else
	echo "FAIL host_runner_unknown_begin: exit $rc, $(boots unknown_begin) boots: $(tr '\n' '|' <"$work/unknown_begin/out")"
fi

# The real suites: every begin is accounted for, and each kind of helper is seen (one name of each).
real=$here/../host/scenarios
default=$(cd "$real" && ls *.sh | sed 's/\.sh$//' | grep -v -e '^lib$' -e '^bench' -e '^probe$' | tr '\n' ',' | sed 's/,$//')
if names=$("$here/../host/expected.sh" --check "$real" "$default,probe" 2>"$work/real.err"); then
	why=
	for want in amd64-512m bad-missing-kernel bootstrap-stall disk-size-686 kexec-686-to-686 acpi-poweroff-amd64 \
		noacpi-poweroff-686 fake-ends-amd64 panic-686 idle-exit-amd64 sandbox-hook-vcpu sigterm-stops \
		images-boot-lbvm-initramfs-mount-lbvm-disk probe-disk-write halt; do
		echo "$names" | grep -qx -- "$want" || why="$why $want"
	done
	if [ -z "$why" ]; then
		echo "PASS host_runner_real_suites_expected ($(echo "$names" | grep -c .) scenarios in $default,probe)"
	else
		echo "FAIL host_runner_real_suites_expected: missing$why"
	fi
else
	echo "FAIL host_runner_real_suites_expected: $(tr '\n' '|' <"$work/real.err")"
fi
echo END
