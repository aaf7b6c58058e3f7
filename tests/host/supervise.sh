#!/bin/sh
# Boot the KVM test host for the given suites, restart it when it stops making progress, and judge the
# results of all its boots together. The policy (docs/testing.md, "Retries"):
#   - A test host that stops (no heartbeat for HOST_STALL s, or no result line for HOST_QUIET s) is killed,
#     or whose kernel crashes (QEMU ends before DONE), is replaced by a fresh one that runs the suite it
#     stopped in and those after it. A suite that stops the host twice fails the run.
#   - Every result line of every boot counts, stalled boots included: a scenario that failed once fails the
#     run, even when it passed in a later boot, unless the allow-list (HOST_ALLOW) names it with the
#     evidence that the cause lies outside lbvm. Only a suite whose every failure is so listed is rerun.
#   - Every scenario the suites name (tests/host/expected.sh) must have run and passed; the last boot must
#     reach "LBVM-TEST: DONE".
# Usage: supervise.sh KERNEL INITRD SUITES (tests/host/run.sh prepares KERNEL and INITRD)
# Environment: HOST_OUT (logs), HOST_TIMEOUT (seconds per boot, default 4200), HOST_STALL (default 150),
# HOST_QUIET (default 900, above every suite's GUARD), HOST_BUDGET (seconds after which no restart or rerun
# begins, default 4200), HOST_SMP (emulated CPUs, default 2), HOST_MEM (its RAM in MiB, default 8192), HOST_ACCEL (QEMU -accel, default
# tcg,thread=multi), HOST_CMDLINE (extra outer-kernel parameters), HOST_QEMU (the emulator, default
# qemu-system-x86_64), HOST_QEMU_ARGS (more emulator options), HOST_RESTARTS (default 3), HOST_SCENARIOS
# (the suites' scripts), HOST_ALLOW (the allow-list), HOST_POLL (seconds between progress checks).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kernel=$1 initrd=$2 suites=$3
out=${HOST_OUT:-build/host}
timeout_s=${HOST_TIMEOUT:-4200}
budget_s=${HOST_BUDGET:-4200}
stall_s=${HOST_STALL:-150}
quiet_s=${HOST_QUIET:-900}
poll_s=${HOST_POLL:-5}
smp=${HOST_SMP:-2}
# 8 GiB: guests of up to 2 GiB, their disk images in the host's tmpfs, and the unpacked initramfs; a test
# host short of memory reclaims and migrates the guests' pages, where the emulated nested paging goes wrong.
mem_mib=${HOST_MEM:-8192}
accel=${HOST_ACCEL:-tcg,thread=multi}
qemu_bin=${HOST_QEMU:-qemu-system-x86_64}
scenarios=${HOST_SCENARIOS:-$here/scenarios}
allow=${HOST_ALLOW:-$here/allow-flaky.txt}
max_restarts=${HOST_RESTARTS:-3}
mkdir -p "$out"
log="$out/host-console.log"
results="$out/results.txt"
start=$(date +%s)

# --- the allow-list: "SCENARIO EVIDENCE..." per line; an entry without evidence is refused ------------------
allowed=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$allow" 2>/dev/null || true)
bad=$(echo "$allowed" | awk 'NF == 1 { print $1 }')
if [ -n "$bad" ]; then
	echo "host: $allow: no evidence given for $(echo "$bad" | tr '\n' ' ')(each line: SCENARIO EVIDENCE...)"
	exit 1
fi
is_allowed() { echo "$allowed" | awk -v n="$1" '$1 == n { found = 1 } END { exit !found }'; }
print_allow_list() {
	if [ -z "$allowed" ]; then
		echo "host: allow-list ($allow): empty, so every failure counts"
	else
		echo "$allowed" | sed "s|^|host: allow-list ($allow): |"
	fi
}

# --- the scenarios the suites name (tests/host/expected.sh), each of which must begin and pass -------------
# Told before anything boots: a begin whose name cannot be told from the script would let its scenario
# drop out unnoticed, so it stops the run here.
if ! expected=$("$here/expected.sh" --check "$scenarios" "$suites" 2>"$out/expected.err"); then
	sed 's/^/host: /' "$out/expected.err"
	echo "host: cannot tell which scenarios the suites $suites name (see the lines above); nothing booted"
	exit 1
fi
echo "host: $(echo "$expected" | grep -c . || true) scenario(s) expected from suite(s) $suites"

# out_of_time: true once HOST_BUDGET is spent (CI has a limit of its own)
out_of_time() { [ $(( $(date +%s) - start )) -ge "$budget_s" ]; }
# count_lines FILE PATTERN: lines of the console log FILE that match PATTERN (carriage returns dropped)
count_lines() { tr -d '\r' <"$1" | grep -c -e "$2" || true; }

: >"$results"
boots=0
restarts=0
stalls=""          # one line per stall or crash of the test host: the suite it happened in
crashes=0          # of those, the crashes of its kernel
qrc=0

# boot SUITES: one test-host boot; its result lines are appended to $results, each boot's lines after a
# "LBVM-TEST: BOOT n" line. Sets $stalled (1 when it stopped making progress) and $stuck (the suite).
boot() {
	boots=$((boots + 1))
	alog="$out/host-console.$boots.log"
	echo "host: boot $boots of the KVM test host (suites: $1; console log: $alog)"
	set +e
	# shellcheck disable=SC2086 # HOST_QEMU_ARGS is a list of words
	timeout "$timeout_s" "$qemu_bin" ${HOST_QEMU_ARGS:-} -M q35 -cpu max -smp "$smp" -m "$mem_mib" -accel "$accel" \
		-nographic -no-reboot -kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet ${HOST_CMDLINE:-} lbvmhost=$1" </dev/null >"$alog" 2>&1 &
	qemu=$!
	# Stream the results as they come; tail ends with QEMU, so nothing is left behind.
	tail --pid=$qemu -s "$poll_s" -n +1 -F "$alog" 2>/dev/null | tr -d '\r' | grep --line-buffered '^LBVM-TEST:' &
	tailer=$!
	stalled=0
	last_lines=-1 last_change=$(date +%s)
	last_results=-1 last_result_at=$(date +%s)
	while kill -0 $qemu 2>/dev/null; do
		sleep "$poll_s"
		lines=$(count_lines "$alog" '^LBVM-\(TEST\|HEARTBEAT\):')
		res=$(count_lines "$alog" '^LBVM-TEST:')
		now=$(date +%s)
		[ "$res" != "$last_results" ] && { last_results=$res; last_result_at=$now; }
		[ "$lines" != "$last_lines" ] && { last_lines=$lines; last_change=$now; }
		# Stopped: no heartbeat either. Or half-stopped: heartbeats from one CPU while the other is
		# soft-locked (seen: the kvm-pit thread stuck for 1155 s), and no result for longer than
		# any scenario's own guard.
		if [ $((now - last_change)) -ge "$stall_s" ] || [ $((now - last_result_at)) -ge "$quiet_s" ]; then
			stalled=1
			kill $qemu 2>/dev/null
			break
		fi
	done
	wait $qemu
	qrc=$?
	wait $tailer
	set -e
	cp "$alog" "$log"
	echo "LBVM-TEST: BOOT $boots $1" >>"$results"
	tr -d '\r' <"$alog" | grep '^LBVM-TEST:' >>"$results" || true
	stuck=
	# Died: QEMU ended by itself before the host said DONE, so the test host's own kernel crashed (with
	# panic=-1 and -no-reboot a panic ends QEMU; seen: "BUG: TASK stack guard page was hit" inside
	# KVM_RUN, the emulated CPU's GS base wrong after a nested guest's exit). Like a stall it says nothing
	# about the scenario that was running, which has no result: the host restarts under the same rules.
	if [ "$stalled" = 0 ] && [ "$qrc" != 124 ] && ! tr -d '\r' <"$alog" | grep -q '^LBVM-TEST: DONE'; then
		stalled=1
		crashes=$((crashes + 1))
		why=$(tr -d '\r' <"$alog" | awk '/^LBVM-(TEST|HEARTBEAT):/ { n = 0; next }
			/Kernel panic|BUG:|Oops|general protection|double fault/ && n < 2 { e = e (n ? " / " : "") $0; n++ }
			END { print e }' | cut -c1-300)
		echo "host: boot $boots: the test host's kernel crashed (QEMU exit $qrc): ${why:-no kernel message after the last result}"
	fi
	if [ "$stalled" = 1 ]; then
		stuck=$(tr -d '\r' <"$alog" | sed -n 's/^LBVM-TEST: SUITE //p' | tail -n1)
		[ -n "$stuck" ] || stuck=$(echo "$1" | cut -d, -f1)
		stalls="$stalls$stuck
"
		echo "host: boot $boots stopped in suite $stuck (a stall: no heartbeat for $stall_s s or no result for $quiet_s s; or a crash); last line: $(tr -d '\r' <"$alog" | grep -e '^LBVM-TEST:' | tail -n1)"
	fi
}

# run_suites SUITES: boot until SUITES have run to the end, restarting a stalled host (bounded)
run_suites() {
	remaining=$1
	while :; do
		boot "$remaining"
		[ "$stalled" = 1 ] || return 0
		if [ "$(echo "$stalls" | grep -cx "$stuck")" -ge 2 ]; then
			echo "host: suite $stuck stopped the test host twice: no more restarts"
			return 0
		fi
		if [ "$restarts" -ge "$max_restarts" ] || out_of_time; then
			echo "host: no restart after $restarts restart(s) and $(( $(date +%s) - start )) s"
			return 0
		fi
		restarts=$((restarts + 1))
		remaining=$(echo "$remaining" | tr ',' '\n' | sed -n "/^$stuck\$/,\$p" | tr '\n' ',' | sed 's/,$//')
		echo "host: restarting the test host for suite(s) $remaining"
	done
}

# failed_names: every scenario with a FAIL line in any boot
failed_names() { sed -n 's/^LBVM-TEST: FAIL \([^:]*\):.*/\1/p' "$results" | sort -u; }
# last_result NAME: PASS or FAIL, the scenario's last result over all boots
last_result() {
	sed -n -e "s/^LBVM-TEST: PASS $1\$/PASS/p" -e "s/^LBVM-TEST: FAIL $1:.*/FAIL/p" "$results" | tail -n1
}
# suite_of NAME: the suite the scenario's last FAIL line was printed in
suite_of() {
	awk -v n="$1" '/^LBVM-TEST: SUITE / { s = $3 } index($0, "LBVM-TEST: FAIL " n ":") == 1 { f = s } END { print f }' "$results"
}

run_suites "$suites"
# A suite whose every failure is on the allow-list runs once more, so that the listed scenario can show it
# passes; any other failure already fails the run, and a rerun would only hide how often it happens.
rerun=
for name in $(failed_names); do
	if ! is_allowed "$name"; then
		rerun=
		break
	fi
	s=$(suite_of "$name")
	if [ "$(last_result "$name")" = FAIL ] && [ -n "$s" ]; then
		case ",$rerun," in *",$s,"*) ;; *) rerun="${rerun:+$rerun,}$s" ;; esac
	fi
done
if [ -n "$rerun" ] && out_of_time; then
	echo "host: no rerun of suite(s) $rerun: the $budget_s s budget is spent"
elif [ -n "$rerun" ]; then
	echo "host: rerunning suite(s) $rerun, whose only failures are on the allow-list"
	run_suites "$rerun"
fi
took=$(( $(date +%s) - start ))

# --- the verdict ----------------------------------------------------------------------------------------
verdict=0
# Every scenario the suites name ($expected, above) must have begun and passed: nothing may silently drop out.
begun=$(sed -n 's/^LBVM-TEST: BEGIN //p' "$results" | sort -u)
passed=$(sed -n 's/^LBVM-TEST: PASS //p' "$results" | sort -u)
missing=0
for name in $expected; do
	echo "$passed" | grep -qx "$name" && continue
	if ! echo "$begun" | grep -qx "$name"; then
		echo "host: scenario $name never ran"
		missing=$((missing + 1))
	elif ! grep -q "^LBVM-TEST: FAIL $name:" "$results"; then
		echo "host: scenario $name began but has no result"
		missing=$((missing + 1))
	fi
done
[ "$missing" -eq 0 ] || verdict=1
nfailed=0
flaky=0
for name in $(failed_names); do
	last=$(last_result "$name")
	if [ "$last" = PASS ] && is_allowed "$name"; then
		echo "host: FLAKY $name: failed, then passed; allowed by $allow"
		flaky=$((flaky + 1))
	elif [ "$last" = PASS ]; then
		echo "host: FLAKY $name: failed, then passed in a later boot; this fails the run (not on $allow)"
		nfailed=$((nfailed + 1))
	else
		nfailed=$((nfailed + 1))
	fi
done
[ "$nfailed" -eq 0 ] || verdict=1
twice=$(echo "$stalls" | sed '/^$/d' | sort | uniq -d | tr '\n' ' ')
[ -z "$twice" ] || { echo "host: suite(s) ${twice}stopped the test host twice (stalls or crashes): this fails the run"; verdict=1; }
npass=$(echo "$passed" | grep -c . || true)
[ "$npass" -gt 0 ] || verdict=1
# The failures again, last, so that the tail of a CI log names them; then the allow-list and the summary.
grep '^LBVM-TEST: FAIL ' "$results" | sed 's/^LBVM-TEST: /host: /' || true
print_allow_list
nstalls=$(echo "$stalls" | grep -c . || true)
echo "host: $npass passed, $nfailed failed, $missing missing, $flaky allowed flaky; $boots boot(s) in $took s, $nstalls stall(s) or crash(es), $crashes of them crashes${stalls:+ (in $(echo "$stalls" | sed '/^$/d' | tr '\n' ' ' | sed 's/ $//'))}${rerun:+, suite(s) $rerun rerun} (last qemu exit $qrc)"
if ! awk '/^LBVM-TEST: BOOT /{ d = 0 } /^LBVM-TEST: DONE/{ d = 1 } END { exit !d }' "$results"; then
	echo "host: the last test-host boot did not finish (see $log)"
	verdict=1
fi
exit "$verdict"
