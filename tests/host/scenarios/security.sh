# docs/security.md on real KVM: the seccomp test hook on each kind of thread of a running lbvm; what a
# running lbvm holds (its threads' filters, its descriptors, guest RAM out of core dumps); a second run,
# and lbvm disk, on an image in use; and a SIGKILL of lbvm in the middle of a guest's disk writes.
. /lbvm-tests/scenarios/lib.sh
SEC_TIMEOUT=300
GUARD=$((SEC_TIMEOUT + 60))

mkimage() { rm -f "$1"; dd if=/dev/zero of="$1" bs=512 count=0 seek="$2" 2>/dev/null; }

# wait_for FILE TEXT SECONDS: 0 once FILE holds TEXT
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# --- the test hook: a forbidden call on each kind of thread stops lbvm with the report, exit 10 ---------
hook() { # KIND, after begin
	export LBVM_TEST_FORBIDDEN_SYSCALL=$1
	run_lbvm "$WORK/hook-$1" --kernel "$K64" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 lbvmtest=hang" --timeout 120
	unset LBVM_TEST_FORBIDDEN_SYSCALL
	if [ "$rc" = 10 ] && [ "$(wc -l <"$WORK/hook-$1.err")" = 1 ] &&
	   grep -q "^lbvm: sandbox: the $1 thread made a forbidden system call: openat (257); lbvm stops (exit status 10" "$WORK/hook-$1.err"; then
		pass
	else
		fail "exit $rc, stderr: $(cat "$WORK/hook-$1.err")"; show "$WORK/hook-$1"
	fi
}
begin sandbox-hook-vcpu; hook vcpu
begin sandbox-hook-watchdog; hook watchdog
begin sandbox-hook-console-in; hook console-in
begin sandbox-hook-console-out; hook console-out

# --- a running lbvm: confined threads, only the descriptors it needs, guest RAM not dumpable -----------
begin running-lbvm-confined
mkimage "$WORK/held.img" $((16 * 2048))
exec 7</etc/passwd # a descriptor the parent leaves open: lbvm must not keep it
"$LBVM" boot --kernel "$K64" --initrd "$INITRD" --memory 256M --disk "$WORK/held.img" \
	--append "console=ttyS0 pci=conf1 lbvmtest=hang" --timeout $SEC_TIMEOUT --serial-log "$WORK/held.serial" \
	</dev/null >"$WORK/held.log" 2>"$WORK/held.err" &
pid=$! # lbvm itself (its --timeout bounds it)
exec 7<&-
up=no
wait_for "$WORK/held.log" "LBVM-GUEST: hanging" 200 && up=yes
if [ $up = no ]; then
	fail "the guest never said it was hanging"; show "$WORK/held"
else
	fds=$(for f in /proc/$pid/fd/*; do echo "$(basename "$f") $(readlink "$f")"; done | sort -n)
	nfds=$(echo "$fds" | wc -l)
	threads=0 confined=0
	for t in /proc/$pid/task/*; do
		threads=$((threads + 1))
		[ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")" = 2 ] && confined=$((confined + 1))
	done
	# guest RAM: the 256 MiB mapping carries "dd" (no core dump)
	ram_dd=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { big = 0 }
		/^Size:/ { big = ($2 == 262144) } /^VmFlags:/ && big { print ($0 ~ / dd/) ? "yes" : "no"; exit }' "/proc/$pid/smaps")
	echo "LBVM-TEST: INFO running-lbvm-confined: $threads threads, $confined confined; guest RAM not dumped: $ram_dd; descriptors: $(echo "$fds" | tr '\n' ' ')"
	want_fds="0 /dev/null
1 $WORK/held.log
2 $WORK/held.err
anon_inode:kvm-vm
anon_inode:kvm-vcpu:0
$WORK/held.img
$WORK/held.serial"
	missing=$(echo "$want_fds" | while read -r w; do echo "$fds" | grep -qF -- "$w" || echo "[$w]"; done)
	if [ "$nfds" = 7 ] && [ -z "$missing" ] && ! echo "$fds" | grep -q -e passwd -e /dev/kvm -e initramfs -e vmlinuz &&
	   [ "$confined" = $((threads - 1)) ] && [ "$threads" -ge 4 ] && [ "$ram_dd" = yes ]; then
		pass
	else
		fail "$nfds descriptors (missing: $missing), $confined of $threads threads confined, RAM dd: $ram_dd"
	fi
fi

# --- the same image in a second run, and lbvm disk reading it: refused while the first runs ----------
begin disk-in-use-by-another-run
if [ $up = no ]; then
	fail "the first run never came up"
else
	run_lbvm "$WORK/second" --kernel "$K64" --initrd "$INITRD" --memory 256M --disk "$WORK/held.img,ro" \
		--append "console=ttyS0 lbvmtest=hang" --timeout 60
	"$LBVM" disk ls "$WORK/held.img" >/dev/null 2>"$WORK/held-ls.err"
	lsrc=$?
	if [ "$rc" = 2 ] && grep -q "disk '$WORK/held.img' is in use" "$WORK/second.err" &&
	   [ "$(wc -l <"$WORK/second.err")" = 1 ] && [ "$lsrc" = 2 ] && grep -q "is in use" "$WORK/held-ls.err"; then
		pass
	else
		fail "second run exit $rc: $(cat "$WORK/second.err"); disk ls exit $lsrc: $(cat "$WORK/held-ls.err")"
	fi
fi
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

# --- SIGKILL during the guest's writes: what the guest flushed is on the image, the log is kept ----------
begin disk-sigkill-keeps-flushed-data
mkimage "$WORK/kill.img" $((32 * 2048))
"$LBVM" boot --kernel "$K64" --initrd "$INITRD" --memory 512M --disk "$WORK/kill.img" \
	--append "console=ttyS0 pci=conf1 lbvmtest=disk-flush-keep-writing" --timeout $SEC_TIMEOUT \
	--serial-log "$WORK/kill.serial" </dev/null >"$WORK/kill.log" 2>"$WORK/kill.err" &
pid=$!
if ! wait_for "$WORK/kill.serial" "LBVM-GUEST: writing 2" 250; then
	fail "the guest never got to its second write after the flush"; show "$WORK/kill"
	kill -9 "$pid" 2>/dev/null || true
else
	seen=$(grep "LBVM-GUEST:" "$WORK/kill.serial" | tr -d '\r' | tail -n1)
	seen_size=$(wc -c <"$WORK/kill.serial")
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	want=$(sed -n 's/^LBVM-GUEST: pattern_sha256=//p' "$WORK/kill.serial" | tr -d '\r' | head -n1)
	got=$(dd if="$WORK/kill.img" bs=1M count=4 2>/dev/null | sha256sum | cut -d' ' -f1)
	after_size=$(wc -c <"$WORK/kill.serial")
	temps=$(ls "$WORK" | grep -c 'kill.serial.')
	echo "LBVM-TEST: INFO disk-sigkill-keeps-flushed-data: killed after '$seen'; pattern $want, image $got; log $seen_size -> $after_size bytes"
	if [ -n "$want" ] && [ "$want" = "$got" ] && grep -q "LBVM-GUEST: flushed" "$WORK/kill.serial" &&
	   grep -qF "$seen" "$WORK/kill.serial" && [ "$after_size" -ge "$seen_size" ] && [ "$temps" = 0 ]; then
		pass
	else
		fail "pattern '$want' image '$got', last line '$seen' kept: $(grep -cF "$seen" "$WORK/kill.serial"), log $seen_size -> $after_size bytes, $temps temporaries"
		show "$WORK/kill"
	fi
fi
true # the suite's own status is its scenarios' results
