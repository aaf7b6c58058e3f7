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

# chain NAME SEED-KERNEL NEXT-KERNEL-NAME (the kexec suite's payload, tests/host/payloads/kexec.sh): a seed
# kernel writes to the disk and kexecs into the next, which switch_roots into the disk; checks the timeline
# and the result file. Uses $KEXEC_TIMEOUT.
KX=/lbvm-tests/kexec
chain() {
	name=$1 seed=$2 next_arch=$3
	begin "kexec-$name"
	cp "$KX/disk.img" "$WORK/$name.img"
	run_lbvm "$WORK/$name" --kernel "$seed" --initrd "$KX/seed-$name.cpio" --memory 1G \
		--append "console=ttyS0 lbvmtest=kexec lbvm.next=switchroot" --disk "$WORK/$name.img" --timeout $KEXEC_TIMEOUT
	result=$(debugfs -R "cat /result" "$WORK/$name.img?offset=1048576" 2>/dev/null)
	echo "LBVM-TEST: INFO kexec-$name: result file: $result"
	sed -n 's/^lbvm: stage /LBVM-TEST: INFO kexec-'"$name"': stage /p' "$WORK/$name.err"
	if [ "$rc" != 0 ]; then
		fail "exit $rc"; show "$WORK/$name"
	elif ! grep -q "seed_wrote=ok" "$WORK/$name.log"; then
		fail "the seed kernel did not write to the disk"; show "$WORK/$name"
	elif ! grep -q "stage seed kernel" "$WORK/$name.err" || ! grep -q "stage kexec" "$WORK/$name.err" ||
		! grep -q "stage next kernel" "$WORK/$name.err" || ! grep -q "stage switch_root" "$WORK/$name.err"; then
		fail "timeline lacks a stage"; show "$WORK/$name"
	elif ! grep -q "^\[lbvm .*\] next kernel" "$WORK/$name.serial"; then
		fail "serial log lacks the timeline"; show "$WORK/$name"
	elif [ "$(tr -d '\r' <"$WORK/$name.serial" | grep -c 'ACPI: RSDP 0x0*E0000 ')" != 2 ]; then
		fail "not both kernels found the ACPI tables"; grep "ACPI: RSDP" "$WORK/$name.serial"; show "$WORK/$name"
	elif ! grep -q "powered off after .*ACPI S5" "$WORK/$name.err"; then
		fail "the next kernel did not power off through ACPI"; show "$WORK/$name"
	else
		case "$result" in
		*"sysc ran on "*"$next_arch"*"seed said: written by the seed kernel"*) pass ;;
		*) fail "result file '$result' is not from a $next_arch sysc with the seed's note"; show "$WORK/$name" ;;
		esac
	fi
}
