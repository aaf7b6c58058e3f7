#!/bin/sh
# The KVM test host: boot Debian's amd64 kernel under QEMU's software emulation (-cpu max: SVM with nested
# paging), load kvm-amd inside it, and run the scenario suites there against real /dev/kvm. Prints every
# "LBVM-TEST:" line as it comes; fails when a scenario fails, a begun scenario has no result, or the host
# does not finish.
#   tests/host/run.sh LBVM [SUITE,...]      suites: tests/host/scenarios/*.sh (default: all but lib and bench*)
# Environment: HOST_TIMEOUT (seconds, default 3000), HOST_OUT (where logs go, default build/host).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lbvm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
suites=${2:-$(cd "$here/scenarios" && ls *.sh | sed 's/\.sh$//' | grep -v -e '^lib$' -e '^bench' | tr '\n' ',' | sed 's/,$//')}
out=${HOST_OUT:-$root/build/host}
timeout_s=${HOST_TIMEOUT:-3000}
mkdir -p "$out"

cache=$("$here/fixtures.sh")
"$here/build-initramfs.sh" "$cache" "$lbvm" "$suites" "$out"

kernel=$(ls "$cache"/amd64/boot/vmlinuz-* | head -n1)
log="$out/host-console.log"
echo "host: booting the KVM test host (suites: $suites; console log: $log)"
start=$(date +%s)
# One emulated CPU: with two, multi-threaded TCG running a nested guest has left both CPUs of the test
# host soft-locked for minutes (seen once, in the middle of a disk scenario); one CPU has not.
set +e
timeout "$timeout_s" qemu-system-x86_64 -M q35 -cpu max -smp 1 -m 4096 -accel tcg \
	-nographic -no-reboot -kernel "$kernel" -initrd "$out/outer.cpio" \
	-append "console=ttyS0 panic=-1 quiet lbvmhost=$suites" </dev/null >"$log" 2>&1 &
qemu=$!
tail -n +1 -F "$log" 2>/dev/null | tr -d '\r' | grep --line-buffered '^LBVM-TEST:' &
tailer=$!
wait $qemu
qrc=$?
kill $tailer 2>/dev/null
set -e
took=$(( $(date +%s) - start ))
tr -d '\r' <"$log" | grep '^LBVM-TEST:' >"$out/results.txt" || true

begun=$(sed -n 's/^LBVM-TEST: BEGIN //p' "$out/results.txt" | sort -u)
passed=$(sed -n 's/^LBVM-TEST: PASS //p' "$out/results.txt" | sort -u)
failed=$(grep -c '^LBVM-TEST: FAIL ' "$out/results.txt" || true)
# Every scenario the suites name must have been begun and passed: nothing may silently drop out.
expected=$(for s in $(echo "$suites" | tr ',' ' '); do sed -n 's/^begin \([A-Za-z0-9_-]*\).*/\1/p; s/^info_scenario \([A-Za-z0-9_-]*\).*/\1/p; s/^bad_input \([A-Za-z0-9_-]*\).*/\1/p' "$here/scenarios/$s.sh"; done | sort -u)
missing=0
for name in $expected; do
	echo "$passed" | grep -qx "$name" && continue
	echo "$begun" | grep -qx "$name" || { echo "host: scenario $name never ran"; missing=$((missing + 1)); }
	echo "$begun" | grep -qx "$name" && ! grep -q "^LBVM-TEST: FAIL $name" "$out/results.txt" &&
		{ echo "host: scenario $name began but has no result"; missing=$((missing + 1)); }
done
npass=$(echo "$passed" | grep -c . || true)
echo "host: $npass passed, $failed failed, $missing missing; test host ran $took s (qemu exit $qrc)"
grep -q '^LBVM-TEST: DONE' "$out/results.txt" || { echo "host: the test host did not finish (see $log)"; exit 1; }
[ "$failed" -eq 0 ] && [ "$missing" -eq 0 ] && [ "$npass" -gt 0 ]
