#!/bin/sh
# The wedge probe: BOOTS test-host boots of the probe suite (tests/host/scenarios/probe.sh, a few minutes
# of the work that has wedged the test host before), one at a time and without restarts, to measure how
# often a setting of the test host wedges it. One line per boot, then the tally: boots, wedges (where),
# failed scenarios, and boots whose outer kernel reported a lockup (soft lockup, RCU stall, hung task).
#   tests/host/probe.sh LBVM BOOTS LABEL
# The candidate setting comes from supervise.sh's environment (HOST_QEMU, HOST_QEMU_ARGS, HOST_SMP,
# HOST_ACCEL, HOST_CMDLINE). HOST_LOCK names a lock file that each boot takes with flock(1), so that others
# who share the machine get turns between boots. Logs and boots.tsv: PROBE_OUT/LABEL (default build/probe);
# a later call with the same LABEL adds its boots to the tally.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lbvm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
boots=$2 label=$3
out=${PROBE_OUT:-$root/build/probe}/$label
mkdir -p "$out"

cache=$("$here/fixtures.sh") || { echo "probe: the fixtures are missing (see the line above)"; exit 1; }
# PROBE_REUSE=1 keeps the label's test-host initramfs from an earlier call (samples of one setting taken in
# turns with others' keep the same lbvm and guests).
if [ "${PROBE_REUSE:-0}" != 1 ] || [ ! -f "$out/outer.cpio" ]; then
	"$here/build-initramfs.sh" "$cache" "$lbvm" probe "$out" >/dev/null
fi
kernel=$(ls "$cache"/amd64/boot/vmlinuz-* | head -n1)
tsv=$out/boots.tsv
[ -f "$tsv" ] || printf 'boot\toutcome\tseconds\twhere\tlockups\tfirst lockup\tload\n' >"$tsv"
setting="qemu=${HOST_QEMU:-qemu-system-x86_64} ${HOST_QEMU_ARGS:-} smp=${HOST_SMP:-2} accel=${HOST_ACCEL:-tcg,thread=multi} cmdline='${HOST_CMDLINE:-}'"
echo "probe $label: $boots boot(s); $setting; $($lbvm --version 2>/dev/null || basename "$lbvm")" | tee "$out/setting.txt"

i=$(($(wc -l <"$tsv") - 1))
last=$((i + boots))
while [ "$i" -lt "$last" ]; do
	i=$((i + 1))
	b=$out/boot-$i
	rm -rf "$b"
	t0=$(date +%s)
	set +e
	# The outer kernel's warnings and stack traces (loglevel=5) show where a lockup happened.
	env HOST_OUT="$b" HOST_RESTARTS=0 HOST_TIMEOUT=1500 HOST_CMDLINE="loglevel=5 ${HOST_CMDLINE:-}" \
		${HOST_LOCK:+flock "$HOST_LOCK"} "$here/supervise.sh" "$kernel" "$out/outer.cpio" probe >"$b.txt" 2>&1
	rc=$?
	set -e
	took=$(($(date +%s) - t0))
	# The machine's load over the last 15 minutes: the emulator competes with whatever else runs there.
	load=$(cut -d' ' -f3 /proc/loadavg)
	console=$b/host-console.1.log
	lockups=$(tr -d '\r' <"$console" 2>/dev/null | grep -c -e 'soft lockup' -e 'rcu_.*stall' -e 'hung_task' -e 'blocked for more than' || true)
	first=$(tr -d '\r' <"$console" 2>/dev/null | grep -e 'soft lockup' -e 'rcu_.*stall' -e 'blocked for more than' | head -n1 | sed 's/^\[ *[0-9.]*\] //' | cut -c1-120)
	where=
	if grep -q "stopped making progress" "$b.txt"; then
		outcome=wedge
		where=$(grep '^LBVM-TEST: ' "$b/results.txt" | grep -v '^LBVM-TEST: INFO' | tail -n1 | sed 's/^LBVM-TEST: //')
	elif [ "$rc" = 0 ]; then
		outcome=ok
	else
		outcome=fail
		where=$(grep '^host: FAIL\|^host: scenario\|did not finish' "$b.txt" | head -n1 | cut -c1-120)
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$outcome" "$took" "$where" "$lockups" "$first" "$load" | tee -a "$tsv"
done
awk -F'\t' -v label="$label" 'NR > 1 {
	n++; if ($2 == "wedge") { w++; where = where sprintf(" [%s]", $4) } if ($2 == "fail") f++; if ($5 > 0) l++; s += $3
} END { printf "probe %s: %d boots, %d wedged%s, %d failed otherwise, %d with lockup reports; %.0f s per boot\n",
	label, n, w, where, f, l, n ? s / n : 0 }' "$tsv" | tee "$out/summary.txt"
