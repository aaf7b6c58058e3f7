# Issue "lbvm boot": real Debian kernels (amd64 and 686) with a busybox initramfs, inside the test host.
. /lbvm-tests/scenarios/lib.sh
BOOT_TIMEOUT=240
GUARD=$((BOOT_TIMEOUT + 60))
# Every boot's clock must show this, never the host's time (the CMOS RTC reads SOURCE_DATE_EPOCH).
export SOURCE_DATE_EPOCH=1234567890

# e820_ram OUT: bytes of "System RAM" in the firmware map the guest saw; e820_top OUT: its highest end + 1
e820_ram() { sed -n 's/^LBVM-GUEST: e820 \(0x[0-9a-f]*\) \(0x[0-9a-f]*\) System_RAM.*/\1 \2/p' "$1.log" |
	while read -r s e; do echo $((e - s + 1)); done | awk '{ t += $1 } END { printf "%.0f", t }'; }
e820_top() { sed -n 's/^LBVM-GUEST: e820 0x[0-9a-f]* \(0x[0-9a-f]*\) System_RAM.*/\1/p' "$1.log" |
	while read -r e; do echo $((e + 1)); done | sort -n | tail -n1; }

# info_scenario NAME KERNEL MEMORY MIB USABLE-MIB [EXTRA ARGS]: cmdline round-trip, the exact e820 map,
# MemTotal within what the kernel can use, power-off → 0
info_scenario() {
	name=$1 kernel=$2 mem=$3 mib=$4 usable=$5
	shift 5
	begin "$name"
	append="console=ttyS0 lbvmtest=info lbvm.token=$name-$$"
	run_lbvm "$WORK/$name" --kernel "$kernel" --initrd "$INITRD" --memory "$mem" --append "$append" \
		--timeout $BOOT_TIMEOUT "$@"
	got=$(guest_value "$WORK/$name" cmdline)
	kb=$(guest_value "$WORK/$name" memtotal_kb)
	ram_kb=$((usable * 1024))
	# The kernel keeps its own image, page tables and reserved ranges out of MemTotal: allow 15% + 64 MiB.
	low_kb=$((ram_kb * 85 / 100 - 65536))
	# e820: all RAM but the 384 KiB + 1 KiB between base memory and 1 MiB; above 3 GiB it moves to 4 GiB.
	want_ram=$((mib * 1048576 - 0x60400))
	want_top=$((mib * 1048576))
	[ "$mib" -gt 3072 ] && want_top=$((mib * 1048576 + 1073741824))
	d=$(guest_value "$WORK/$name" date)
	map_ram=$(e820_ram "$WORK/$name")
	map_top=$(e820_top "$WORK/$name")
	if [ "$rc" != 0 ]; then
		fail "exit status $rc, expected 0 (power-off)"; show "$WORK/$name"
	elif [ "$got" != "$append" ]; then
		fail "guest /proc/cmdline '$got' != '$append'"; show "$WORK/$name"
	elif [ -z "$d" ] || [ "$d" -lt "$SOURCE_DATE_EPOCH" ] || [ "$d" -ge $((SOURCE_DATE_EPOCH + 600)) ]; then
		# The clock stands at the epoch; the guest reads it once at boot and counts from there.
		fail "guest date '$d' is not at SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH"; show "$WORK/$name"
	elif [ "$map_ram" != "$want_ram" ] || [ "$map_top" != "$want_top" ]; then
		fail "e820 RAM $map_ram bytes up to $map_top, expected $want_ram up to $want_top"; show "$WORK/$name"
	elif [ -z "$kb" ] || [ "$kb" -gt "$ram_kb" ] || [ "$kb" -lt "$low_kb" ]; then
		fail "MemTotal '$kb' kB outside [$low_kb, $ram_kb] for --memory $mem"; show "$WORK/$name"
	elif ! grep -q "LBVM-GUEST: init reached" "$WORK/$name.serial"; then
		fail "serial log lacks the guest's output"
	elif ! grep -q "powered off after .*ACPI S5" "$WORK/$name.err"; then
		fail "the power-off did not come through ACPI S5"; show "$WORK/$name"
	else
		echo "LBVM-TEST: INFO $name: MemTotal $kb kB of $ram_kb kB"
		pass
	fi
}

info_scenario amd64-512m "$K64" 512M 512 512
info_scenario amd64-6g "$K64" 6G 6144 6144
info_scenario amd64-entry32 "$K64" 512M 512 512 --entry 32
info_scenario i686-512m "$K32" 512M 512 512
# Debian's 686 kernel has no PAE: it uses RAM below 4 GiB only, here the 3 GiB under the PCI hole, while the
# map it is given still lists all 6 GiB.
info_scenario i686-6g "$K32" 6G 6144 3072

begin stdin-roundtrip
# A writer that waits for the guest's READY, then sends one line; lbvm reads it from a pipe.
out=$WORK/echo
rm -f "$out.log"
line="hello-from-the-host-$$"
(
	i=0
	while ! grep -q "LBVM-GUEST: READY" "$out.log" 2>/dev/null && [ $i -lt $((BOOT_TIMEOUT * 2)) ]; do
		sleep 0.5
		i=$((i + 1))
	done
	echo "$line"
) | timeout -s KILL $((BOOT_TIMEOUT + 60)) "$LBVM" boot --kernel "$K64" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 lbvmtest=echo" --timeout $BOOT_TIMEOUT >"$out.log" 2>"$out.err"
rc=$?
got=$(guest_value "$out" got)
if [ "$rc" = 0 ] && [ "$got" = "$line" ]; then
	pass
else
	fail "exit $rc, guest read '$got'"; show "$out"
fi

begin panic-exit-code
run_lbvm "$WORK/panic" --kernel "$K64" --initrd "$INITRD" --memory 256M --append "console=ttyS0 lbvmtest=panic" \
	--timeout $BOOT_TIMEOUT
if [ "$rc" = 3 ] && grep -q "Kernel panic - not syncing" "$WORK/panic.log" && grep -q "kernel panic" "$WORK/panic.err"; then
	pass
else
	fail "exit $rc, expected 3 with the panic reported"; show "$WORK/panic"
fi

begin i686-panic-exit-code
run_lbvm "$WORK/panic32" --kernel "$K32" --initrd "$INITRD" --memory 256M --append "console=ttyS0 lbvmtest=panic" \
	--timeout $BOOT_TIMEOUT
if [ "$rc" = 3 ]; then pass; else fail "exit $rc, expected 3"; show "$WORK/panic32"; fi

begin hang-timeout
# Boot far enough to hang in init, then time out: the timeout must fire promptly.
run_lbvm "$WORK/hang" --kernel "$K64" --initrd "$INITRD" --memory 256M --append "console=ttyS0 lbvmtest=hang" \
	--timeout 90
# Promptly: within 5 s of --timeout, measured from outside lbvm (process start and exit included).
late=$(echo "$elapsed" | awk '{ print ($1 > 95) ? 1 : 0 }')
if [ "$rc" = 4 ] && [ "$late" = 0 ] && grep -q "LBVM-GUEST: hanging" "$WORK/hang.log" && grep -q "timed out" "$WORK/hang.err"; then
	pass
else
	fail "exit $rc after $elapsed s, expected 4 within 95 s after the guest hung"; show "$WORK/hang"
fi

begin reboot-exit-code
run_lbvm "$WORK/reboot" --kernel "$K64" --initrd "$INITRD" --memory 256M --append "console=ttyS0 lbvmtest=reboot" \
	--timeout $BOOT_TIMEOUT
if [ "$rc" = 0 ] && grep -q "rebooted.*0xcf9" "$WORK/reboot.err"; then pass; else fail "exit $rc"; show "$WORK/reboot"; fi

# --- bad inputs: exit 2, one line naming the problem, never a crash --------------------------------
# bad_input NAME EXPECTED-TEXT ARGS...
bad_input() {
	name=$1 text=$2
	shift 2
	begin "$name"
	"$LBVM" boot "$@" </dev/null >"$WORK/$name.log" 2>"$WORK/$name.err"
	rc=$?
	lines=$(wc -l <"$WORK/$name.err")
	if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -q "$text" "$WORK/$name.err"; then
		pass
	else
		fail "exit $rc, $lines stderr lines, expected 2 and one line with '$text'"; cat "$WORK/$name.err"
	fi
}
head -c 1000000 "$K64" >"$WORK/truncated-kernel"
head -c 3000000 /dev/urandom >"$WORK/garbage-kernel"
dd if=/dev/zero of="$WORK/big-initrd" bs=1M count=200 2>/dev/null
bad_input bad-missing-kernel "No such file" --kernel /nonexistent/vmlinuz --initrd "$INITRD"
bad_input bad-garbage-kernel "not a Linux x86 kernel" --kernel "$WORK/garbage-kernel"
bad_input bad-truncated-kernel "truncated" --kernel "$WORK/truncated-kernel"
bad_input bad-directory-initrd "not a regular file" --kernel "$K64" --initrd /tmp
bad_input bad-missing-initrd "No such file" --kernel "$K64" --initrd /nonexistent/initrd
bad_input bad-initrd-too-big "does not fit" --kernel "$K64" --initrd "$WORK/big-initrd" --memory 128M
bad_input bad-memory-value "memory" --kernel "$K64" --memory lots
bad_input bad-cmdline-too-long "command line" --kernel "$K64" --append "$(head -c 5000 /dev/zero | tr '\0' x)"

begin no-permission-on-dev-kvm
chmod 600 /dev/kvm
/usr/local/bin/lbvm-runas 65534 65534 "$LBVM" boot --kernel "$K64" --initrd "$INITRD" </dev/null >"$WORK/perm.log" 2>"$WORK/perm.err"
rc=$?
chmod 666 /dev/kvm
if [ "$rc" = 2 ] && grep -q "no permission.*kvm" "$WORK/perm.err"; then pass; else fail "exit $rc"; cat "$WORK/perm.err"; fi

begin no-dev-kvm
mv /dev/kvm /dev/kvm.hidden
"$LBVM" boot --kernel "$K64" --initrd "$INITRD" </dev/null >"$WORK/nokvm.log" 2>"$WORK/nokvm.err"
rc=$?
mv /dev/kvm.hidden /dev/kvm
if [ "$rc" = 2 ] && grep -q "/dev/kvm does not exist" "$WORK/nokvm.err"; then pass; else fail "exit $rc"; cat "$WORK/nokvm.err"; fi
