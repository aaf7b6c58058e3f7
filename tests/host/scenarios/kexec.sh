# Issue "three systems in one run": a seed kernel kexecs into the next kernel, which mounts the AHCI disk
# and switch_roots into it; the disk's /init writes a result file and powers off. Debian stand-ins for
# what live-bootstrap's sysa would build (its kexec-tools is i386, as sysa's userland is). Each
# combination is one `lbvm boot`.
. /lbvm-tests/scenarios/lib.sh
KX=/lbvm-tests/kexec
KEXEC_TIMEOUT=600
GUARD=$((KEXEC_TIMEOUT + 60))

# chain NAME SEED-KERNEL NEXT-KERNEL-NAME: run the chain, check the timeline and the result on the disk
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

chain 686-to-686 "$K32" 686
chain amd64-to-686 "$K64" 686
chain amd64-to-amd64 "$K64" amd64

chain amd64-to-amd64-amd64tools "$K64" amd64
