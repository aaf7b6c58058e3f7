# Helpers for the scenario scripts that run inside the KVM test host (sourced).
# Each scenario: begin NAME; checks; pass or fail "why". Results are console lines for tests/host/run.sh.
LBVM=${LBVM:-/usr/local/bin/lbvm}
GUEST=/lbvm-tests/guest
K64=$GUEST/vmlinuz-amd64
K32=$GUEST/vmlinuz-686
INITRD=$GUEST/initramfs.cpio
WORK=/tmp/work
mkdir -p "$WORK"
current=
GUARD=${GUARD:-900}  # each suite sets it a minute above its own lbvm timeouts

begin() { current=$1; echo "LBVM-TEST: BEGIN $1"; }
pass() { echo "LBVM-TEST: PASS $current"; }
fail() { echo "LBVM-TEST: FAIL $current: $*"; }
now() { cut -d' ' -f1 /proc/uptime; }

# run_lbvm OUT ARGS...: run lbvm with stdin from /dev/null, stdout+serial to OUT.log, stderr to OUT.err;
# sets $rc and $elapsed (seconds, from /proc/uptime).
run_lbvm() {
	out=$1
	shift
	t0=$(now)
	# A hung lbvm must become a failure with evidence, not a hung suite: kill it well after its own timeout.
	timeout -s KILL "$GUARD" "$LBVM" boot "$@" --serial-log "$out.serial" </dev/null >"$out.log" 2>"$out.err"
	rc=$?
	[ "$rc" = 137 ] && echo "LBVM-TEST: INFO $current: lbvm did not stop by itself within $GUARD s: killed"
	elapsed=$(echo "$(now) $t0" | awk '{ printf "%.2f", $1 - $2 }')
	echo "LBVM-TEST: INFO $current: exit $rc after $elapsed s"
}

# show the end of a failed run's output, for the CI log
show() {
	echo "---- $1.log (tail)"; tail -n 25 "$1.log"
	echo "---- $1.err"; cat "$1.err"; echo "----"
}

# guest_value OUT KEY: the value the guest printed as "LBVM-GUEST: KEY=VALUE"
guest_value() { sed -n "s/^LBVM-GUEST: $2=//p" "$1.log" | tr -d '\r' | head -n1; }
