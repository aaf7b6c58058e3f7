# The wedge probe (docs/testing.md, "The wedge probe"): a few minutes of the work that has wedged the test
# host before — nested boots of the amd64 and 686 guests, disk I/O through the AHCI controller, a kexec
# into the next kernel and a switch_root. Run by tests/host/probe.sh, one test-host boot per sample; not
# part of make check (its scenarios are the other suites' own).
. /lbvm-tests/scenarios/lib.sh
PROBE_TIMEOUT=600    # generous: the probe counts wedged test hosts, not slow guests (a busy machine slows them)
KEXEC_TIMEOUT=$PROBE_TIMEOUT
GUARD=$((PROBE_TIMEOUT + 60))
export SOURCE_DATE_EPOCH=1234567890

# probe_info KERNEL: the guest reaches init and powers off (after its scenario's begin, on the same line,
# where tests/host/supervise.sh finds the name)
probe_info() {
	run_lbvm "$WORK/$current" --kernel "$1" --initrd "$INITRD" --memory 512M --append "console=ttyS0 lbvmtest=info" \
		--timeout $PROBE_TIMEOUT
	if [ "$rc" = 0 ] && grep -q "LBVM-GUEST: init reached" "$WORK/$current.log"; then pass; else fail "exit $rc"; show "$WORK/$current"; fi
}
begin probe-amd64; probe_info "$K64"
begin probe-686; probe_info "$K32"

begin probe-disk-write
rm -f "$WORK/probe.img"
dd if=/dev/zero of="$WORK/probe.img" bs=1M count=0 seek=128 2>/dev/null
run_lbvm "$WORK/probe-disk" --kernel "$K64" --initrd "$INITRD" --memory 512M --disk "$WORK/probe.img" \
	--append "console=ttyS0 pci=conf1 lbvmtest=disk-write" --timeout $PROBE_TIMEOUT
wrote=$(guest_value "$WORK/probe-disk" wrote_sha256)
host=$(dd if="$WORK/probe.img" bs=1M count=64 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$rc" = 0 ] && [ -n "$wrote" ] && [ "$wrote" = "$host" ]; then pass; else fail "exit $rc, hash '$wrote' != '$host'"; show "$WORK/probe-disk"; fi

chain amd64-to-686 "$K64" 686
