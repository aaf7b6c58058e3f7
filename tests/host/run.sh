#!/bin/sh
# The KVM test host: boot Debian's amd64 kernel under QEMU's software emulation (-cpu max: SVM with nested
# paging), load kvm-amd inside it, and run the scenario suites there against real /dev/kvm. Prints every
# "LBVM-TEST:" line as it comes; fails when a scenario fails, a begun scenario has no result, or the host
# does not finish.
#   tests/host/run.sh LBVM [SUITE,...]      suites: tests/host/scenarios/*.sh (default: all but lib and bench*)
# Environment: HOST_TIMEOUT (seconds per test-host boot, default 3000), HOST_STALL (seconds without
# heartbeat or result before a stopped test host is restarted, default 150), HOST_BUDGET (seconds after
# which no restart or rerun is begun, default 3000), HOST_QUIET (seconds without a result line before a
# host is treated as stopped even while it prints heartbeats, default 900: above every suite's GUARD), HOST_OUT (logs, default build/host).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lbvm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
suites=${2:-$(cd "$here/scenarios" && ls *.sh | sed 's/\.sh$//' | grep -v -e '^lib$' -e '^bench' | tr '\n' ',' | sed 's/,$//')}
out=${HOST_OUT:-$root/build/host}
timeout_s=${HOST_TIMEOUT:-3000}
budget_s=${HOST_BUDGET:-3000}
quiet_s=${HOST_QUIET:-900}
mkdir -p "$out"

cache=$("$here/fixtures.sh")
"$here/build-initramfs.sh" "$cache" "$lbvm" "$suites" "$out"

kernel=$(ls "$cache"/amd64/boot/vmlinuz-* | head -n1)
log="$out/host-console.log"
stall_s=${HOST_STALL:-150}
start=$(date +%s)
# The emulator itself sometimes wedges the whole test host (QEMU's software emulation of nested SVM: the
# host kernel stops making progress, seen with one and with two emulated CPUs, at random scenarios). A
# host whose /init prints neither a result nor its 30 s heartbeat for $stall_s s has stopped; it is killed
# and a fresh one reruns the suite it was in and those after it, at most three times; every restart is printed
# and counted in the summary.

# out_of_time: true once HOST_BUDGET is spent (CI has a limit of its own)
out_of_time() { [ $(( $(date +%s) - start )) -ge "$budget_s" ]; }

# boot_suites SUITES RESULTS: run SUITES in test-host boots (restarting a stalled one), appending every
# result line to RESULTS.
boot_suites() {
	remaining=$1
	: >"$2"
	while :; do
		alog="$out/host-console.$attempt.log"
		echo "host: booting the KVM test host (suites: $remaining; console log: $alog)"
		set +e
		timeout "$timeout_s" qemu-system-x86_64 -M q35 -cpu max -smp 2 -m 4096 -accel tcg,thread=multi \
			-nographic -no-reboot -kernel "$kernel" -initrd "$out/outer.cpio" \
			-append "console=ttyS0 panic=-1 quiet lbvmhost=$remaining" </dev/null >"$alog" 2>&1 &
		qemu=$!
		# Stream the results as they come; tail ends with QEMU, so nothing is left behind.
		tail --pid=$qemu -n +1 -F "$alog" 2>/dev/null | tr -d '\r' | grep --line-buffered '^LBVM-TEST:' &
		tailer=$!
		stalled=0
		last_lines=-1
		last_change=$(date +%s)
		last_results=-1
		last_result=$(date +%s)
		while kill -0 $qemu 2>/dev/null; do
			sleep 5
			lines=$(tr -d '\r' <"$alog" | grep -c -e '^LBVM-TEST:' -e '^LBVM-HEARTBEAT:')
			results=$(tr -d '\r' <"$alog" | grep -c -e '^LBVM-TEST:')
			if [ "$results" != "$last_results" ]; then
				last_results=$results
				last_result=$(date +%s)
			fi
			if [ "$lines" != "$last_lines" ]; then
				last_lines=$lines
				last_change=$(date +%s)
			fi
			# Stopped: no heartbeat either. Or half-stopped: heartbeats from one CPU while the other is
			# soft-locked (seen: the kvm-pit thread stuck for 1155 s), and no result for longer than
			# any scenario's own guard.
			if [ $(( $(date +%s) - last_change )) -ge "$stall_s" ] ||
				[ $(( $(date +%s) - last_result )) -ge "$quiet_s" ]; then
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
		tr -d '\r' <"$alog" | grep '^LBVM-TEST:' >"$out/attempt.txt" || true
		attempt=$((attempt + 1))
		if [ "$stalled" = 0 ] || [ "$restarts" -ge 3 ] || out_of_time; then
			cat "$out/attempt.txt" >>"$2"
			[ "$stalled" = 1 ] && echo "host: the test host stalled; giving up after $restarts restart(s), $(( $(date +%s) - start )) s"
			return 0
		fi
		# Keep the results of the suites that finished; rerun the one that stalled and those after it.
		stuck=$(sed -n 's/^LBVM-TEST: SUITE //p' "$out/attempt.txt" | tail -n1)
		[ -n "$stuck" ] || stuck=$(echo "$remaining" | cut -d, -f1)
		sed "/^LBVM-TEST: SUITE $stuck\$/,\$d" "$out/attempt.txt" >>"$2"
		remaining=$(echo "$remaining" | tr ',' '\n' | sed -n "/^$stuck\$/,\$p" | tr '\n' ',' | sed 's/,$//')
		restarts=$((restarts + 1))
		echo "host: no progress (no heartbeat for $stall_s s or no result for $quiet_s s) in suite $stuck (last: $(tail -n1 "$out/attempt.txt")); restarting the test host"
	done
}

# failing_suites RESULTS: the suites, comma-separated, in which a scenario failed
failing_suites() {
	awk '/^LBVM-TEST: SUITE / { s = $3 } /^LBVM-TEST: FAIL / && s != "" && !seen[s]++ { print s }' "$1" | tr '\n' ',' | sed 's/,$//'
}

attempt=1
restarts=0
boot_suites "$suites" "$out/results.txt"
# A scenario that fails is given one more chance in a fresh test host, because the emulated host itself
# misbehaves now and then. Its whole suite runs again; the rerun's result is the one that counts, and
# both are printed, so a scenario that fails only sometimes still shows in the log.
rerun=$(failing_suites "$out/results.txt")
if [ -n "$rerun" ] && out_of_time; then
	echo "host: no rerun of suite(s) $rerun: the $budget_s s budget is spent"
	rerun=
elif [ -n "$rerun" ]; then
	cp "$out/results.txt" "$out/results.first.txt"
	grep '^LBVM-TEST: FAIL ' "$out/results.first.txt" | sed 's/^LBVM-TEST: FAIL /host: failed, to be rerun: /'
	echo "host: rerunning suite(s) $rerun in a fresh test host"
	boot_suites "$rerun" "$out/results.rerun.txt"
	# The first boot's results for the other suites, then the rerun's.
	awk -v rerun=",$rerun," 'BEGIN { keep = 1 } /^LBVM-TEST: SUITE / { keep = index(rerun, "," $3 ",") == 0 } keep || /^LBVM-TEST: (HOST|DONE)/' \
		"$out/results.first.txt" >"$out/results.txt"
	cat "$out/results.rerun.txt" >>"$out/results.txt"
	for name in $(sed -n 's/^LBVM-TEST: FAIL \([^:]*\):.*/\1/p' "$out/results.first.txt"); do
		grep -qx "LBVM-TEST: PASS $name" "$out/results.rerun.txt" &&
			echo "host: FLAKY $name: failed at first, passed in the rerun"
	done
fi
took=$(( $(date +%s) - start ))

begun=$(sed -n 's/^LBVM-TEST: BEGIN //p' "$out/results.txt" | sort -u)
passed=$(sed -n 's/^LBVM-TEST: PASS //p' "$out/results.txt" | sort -u)
failed=$(grep -c '^LBVM-TEST: FAIL ' "$out/results.txt" || true)
# Every scenario the suites name must have been begun and passed: nothing may silently drop out.
# A scenario starts with "begin NAME" or with a call of one of the suites' scenario helpers.
expected=$(for s in $(echo "$suites" | tr ',' ' '); do
	sed -n -e 's/^\(begin\|info_scenario\|bad_input\|disk_info\|failure\) \([A-Za-z0-9_-]*\).*/\2/p' \
		-e 's/^chain \([A-Za-z0-9_-]*\).*/kexec-\1/p' "$here/scenarios/$s.sh"
done | sort -u)
missing=0
for name in $expected; do
	echo "$passed" | grep -qx "$name" && continue
	echo "$begun" | grep -qx "$name" || { echo "host: scenario $name never ran"; missing=$((missing + 1)); }
	echo "$begun" | grep -qx "$name" && ! grep -q "^LBVM-TEST: FAIL $name" "$out/results.txt" &&
		{ echo "host: scenario $name began but has no result"; missing=$((missing + 1)); }
done
npass=$(echo "$passed" | grep -c . || true)
# The failures again, last, so that the tail of a CI log names them.
grep '^LBVM-TEST: FAIL ' "$out/results.txt" | sed 's/^LBVM-TEST: /host: /' || true
echo "host: $npass passed, $failed failed, $missing missing; test host ran $took s in $((attempt - 1)) boot(s), $restarts restart(s) after a stall${rerun:+, suite(s) $rerun rerun after a failure} (qemu exit $qrc)"
grep -q '^LBVM-TEST: DONE' "$out/results.txt" || { echo "host: the test host did not finish (see $log)"; exit 1; }
[ "$failed" -eq 0 ] && [ "$missing" -eq 0 ] && [ "$npass" -gt 0 ]
