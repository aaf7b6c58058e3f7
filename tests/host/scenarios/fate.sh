# Issue "the end of a run": power-off, reset, halt and panic are decided by the machine (ACPI's registers,
# the reset control register, samples of the vCPU), never by console text; lbvm's events come over COM2;
# the idle probe. Real Debian kernels (amd64 and 686) with the busybox initramfs.
. /lbvm-tests/scenarios/lib.sh
FATE_TIMEOUT=240
GUARD=$((FATE_TIMEOUT + 60))

# acpi_lines OUT NAME: what the guest kernel said about ACPI, PCI and firmware problems, for the log
acpi_lines() {
	tr -d '\r' <"$1.serial" | grep -E 'ACPI|PCI0|PNP0A03|MMCONFIG|Firmware Bug|BIOS|_OSC|IRQ9|SCI' |
		sed "s/^/LBVM-TEST: INFO $2: /" | head -n 80
	# and whatever else the kernel complained about
	tr -d '\r' <"$1.serial" | grep -iE 'warn|fail|error|bug|invalid|unable|not found|cannot|can.t' |
		grep -v 'LBVM-GUEST' | sed "s/^/LBVM-TEST: INFO $2 complains: /" | head -n 40
}

# poweroff_via_acpi NAME KERNEL: poweroff -f ends through ACPI's S5 register, not the console's words
poweroff_via_acpi() {
	name=$1 kernel=$2
	begin "$name"
	run_lbvm "$WORK/$name" --kernel "$kernel" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 lbvmtest=poweroff" --timeout $FATE_TIMEOUT
	acpi_lines "$WORK/$name" "$name"
	if [ "$rc" != 0 ]; then
		fail "exit $rc, expected 0"; show "$WORK/$name"
	elif ! grep -q "powered off after .*ACPI S5" "$WORK/$name.err"; then
		fail "the run did not end through ACPI S5"; show "$WORK/$name"
	elif ! grep -q "Preparing to enter system sleep state S5" "$WORK/$name.serial"; then
		fail "the kernel did not take ACPI's power-off path"; show "$WORK/$name"
	elif grep -q "Attempted to kill init" "$WORK/$name.serial"; then
		fail "the kernel fell back to letting init exit"; show "$WORK/$name"
	else
		pass
	fi
}
poweroff_via_acpi acpi-poweroff-amd64 "$K64"
poweroff_via_acpi acpi-poweroff-686 "$K32"

# noacpi_poweroff NAME KERNEL: without ACPI the kernel has no way to cut the power. Depending on its
# version it halts ("reboot: System halted", the CPU halted with interrupts off) or says "reboot: Power
# down" and lets init exit, whose confirmed panic is read as the power-off it is. Either way: exit 0,
# explained by what the kernel did.
noacpi_poweroff() {
	name=$1 kernel=$2
	begin "$name"
	run_lbvm "$WORK/$name" --kernel "$kernel" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 acpi=off lbvmtest=poweroff" --timeout $FATE_TIMEOUT
	if grep -q "reboot: Power down" "$WORK/$name.serial"; then
		echo "LBVM-TEST: INFO $name: the kernel said 'Power down' and let init exit"
		ok=$(grep -q "powered off after .*no power-off method" "$WORK/$name.err" &&
			grep -q "Attempted to kill init! exitcode=0x00000000" "$WORK/$name.serial" && echo 1)
	else
		echo "LBVM-TEST: INFO $name: the kernel halted"
		ok=$(grep -q "reboot: System halted" "$WORK/$name.serial" &&
			grep -q "halted after .*interrupts off (reboot: System halted)" "$WORK/$name.err" && echo 1)
	fi
	if [ "$rc" = 0 ] && [ "$ok" = 1 ]; then
		pass
	else
		fail "exit $rc, expected 0 explained by the kernel's own end"; show "$WORK/$name"
	fi
}
noacpi_poweroff noacpi-poweroff-amd64 "$K64"
noacpi_poweroff noacpi-poweroff-686 "$K32"

begin acpi-reboot
run_lbvm "$WORK/reboot" --kernel "$K64" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 lbvmtest=reboot" --timeout $FATE_TIMEOUT
if [ "$rc" = 0 ] && grep -q "rebooted after .*reset control register 0xcf9" "$WORK/reboot.err"; then
	pass
else
	fail "exit $rc, expected 0 through the reset register"; show "$WORK/reboot"
fi

begin halt
run_lbvm "$WORK/halt" --kernel "$K64" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 lbvmtest=halt" --timeout $FATE_TIMEOUT
if [ "$rc" = 0 ] && grep -q "halted after .*interrupts off" "$WORK/halt.err"; then
	pass
else
	fail "exit $rc, expected 0 with the CPU halted"; show "$WORK/halt"
fi

# fake_ends NAME KERNEL: the end-of-run words as ordinary output (tty and /dev/kmsg) end nothing
fake_ends() {
	name=$1 kernel=$2
	begin "$name"
	run_lbvm "$WORK/$name" --kernel "$kernel" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 lbvmtest=fake-ends" --timeout $FATE_TIMEOUT
	# Before the guest survived: one hint per /dev/kmsg line (5), none for the five echoed through the tty.
	hints=$(tr -d '\r' <"$WORK/$name.serial" | sed '/LBVM-GUEST: survived/,$d' | grep -c "the kernel announces")
	echo "LBVM-TEST: INFO $name: $hints hints before the guest went on"
	if [ "$rc" != 0 ]; then
		fail "exit $rc, expected 0"; show "$WORK/$name"
	elif ! grep -q "LBVM-GUEST: survived" "$WORK/$name.log"; then
		fail "the run ended at the fake lines"; show "$WORK/$name"
	elif ! grep -q "powered off after .*ACPI S5" "$WORK/$name.err"; then
		fail "the run did not end with the real power-off"; show "$WORK/$name"
	elif [ "$hints" != 5 ]; then
		fail "$hints hints from the fake lines, expected 5 (the kernel console's, not the tty's)"; show "$WORK/$name"
	else
		pass
	fi
}
fake_ends fake-ends-amd64 "$K64"
fake_ends fake-ends-686 "$K32"

# panic_prompt NAME KERNEL: init exits, the kernel panics: exit 3 within a few seconds of the panic
panic_prompt() {
	name=$1 kernel=$2
	begin "$name"
	run_lbvm "$WORK/$name" --kernel "$kernel" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 lbvmtest=panic" --timeout $FATE_TIMEOUT
	hint_at=$(sed -n 's/^\[lbvm *\([0-9.]*\) s\] the kernel announces a panic.*/\1/p' "$WORK/$name.serial" | head -n1)
	end_at=$(sed -n 's/.*guest kernel panic after \([0-9.]*\) s.*/\1/p' "$WORK/$name.err" | head -n1)
	delay=$(echo "$hint_at $end_at" | awk '{ if (NF == 2) printf "%.1f", $2 - $1; else print "none" }')
	echo "LBVM-TEST: INFO $name: the run ended $delay s after the panic line"
	late=$(echo "$delay" | awk '{ print ($1 == "none" || $1 > 8) ? 1 : 0 }')
	if [ "$rc" = 3 ] && [ "$late" = 0 ] && grep -q "Attempted to kill init" "$WORK/$name.err"; then
		pass
	else
		fail "exit $rc, $delay s after the panic line; expected 3 within 8 s"; show "$WORK/$name"
	fi
}
panic_prompt panic-amd64 "$K64"
panic_prompt panic-686 "$K32"

begin panic-reset
# panic=1: the kernel resets the machine a second after the panic; the reset is read as the panic it ends.
run_lbvm "$WORK/panicreset" --kernel "$K64" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 panic=1 lbvmtest=panic" --timeout $FATE_TIMEOUT
if [ "$rc" = 3 ] && grep -q "Rebooting in 1 seconds" "$WORK/panicreset.log" &&
	grep -q "guest kernel panic after .*Attempted to kill init" "$WORK/panicreset.err"; then
	pass
else
	fail "exit $rc, expected 3 through the reset after the panic"; show "$WORK/panicreset"
fi

begin com2-events
run_lbvm "$WORK/events" --kernel "$K64" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 lbvmtest=events" --timeout $FATE_TIMEOUT
s=$WORK/events.serial
if [ "$rc" != 0 ] || ! grep -q "LBVM-GUEST: events sent" "$WORK/events.log"; then
	fail "exit $rc, expected 0 after the events"; show "$WORK/events"
elif ! grep -q "^\[lbvm-event .*\] mark com2-mark-x86_64$" "$s" ||
	! grep -q "^\[lbvm-event .*\] step-begin build-foo_1.0$" "$s" ||
	! grep -q "^\[lbvm-event .*\] step-end build-foo_1.0 0$" "$s"; then
	fail "lbvm's record lacks an event"; grep "lbvm-event" "$s"; show "$WORK/events"
elif ! grep -q "^\[lbvm-event .*\] invalid (unknown event.*bogus-event with words$" "$s" ||
	! grep -q "^\[lbvm-event .*\] invalid (a status is a number 0..255): step-end build-foo_1.0 999$" "$s" ||
	! grep -q "^\[lbvm-event .*\] invalid (the line is longer than 256 bytes)" "$s"; then
	fail "malformed events not recorded as invalid"; grep "lbvm-event" "$s"; show "$WORK/events"
elif grep -q -e "com2-mark" -e "build-foo" -e "bogus-event" "$WORK/events.log"; then
	fail "an event reached stdout"; show "$WORK/events"
elif ! grep -q "com2-mark-x86_64" "$WORK/events.err"; then
	fail "the mark is not a stage of the timeline"; show "$WORK/events"
else
	pass
fi

# idle_exit NAME KERNEL: a guest waiting at a prompt is idle; --idle-exit ends the run (exit 0)
idle_exit() {
	name=$1 kernel=$2
	begin "$name"
	run_lbvm "$WORK/$name" --kernel "$kernel" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 lbvmtest=idle" --idle-exit 3 --timeout $FATE_TIMEOUT
	if [ "$rc" = 0 ] && grep -q "LBVM-GUEST: waiting for input" "$WORK/$name.log" &&
		grep -q "idle for .*--idle-exit" "$WORK/$name.err"; then
		pass
	else
		fail "exit $rc, expected 0 once the guest waited idle"; show "$WORK/$name"
	fi
}
idle_exit idle-exit-amd64 "$K64"
idle_exit idle-exit-686 "$K32"

begin busy-is-not-idle
# Silent but spinning in user mode: not idle, so only --timeout ends it.
# The busy gauge spares it the idle probe's samples; how many were taken is recorded (LBVM_DEBUG).
export LBVM_DEBUG=1
run_lbvm "$WORK/busy" --kernel "$K64" --initrd "$INITRD" --memory 256M \
	--append "console=ttyS0 lbvmtest=busy" --idle-exit 3 --timeout 60
unset LBVM_DEBUG
sed -n 's/.*vCPU at the end: .*\(samples [^0-9]*[0-9]* [a-z]*=[0-9]* [a-z]*=[0-9]* [a-z]*=[0-9]*\).*/LBVM-TEST: INFO busy-is-not-idle: \1/p' "$WORK/busy.err"
if [ "$rc" = 4 ] && grep -q "LBVM-GUEST: spinning" "$WORK/busy.log"; then
	pass
else
	fail "exit $rc, expected 4 (timeout)"; show "$WORK/busy"
fi
