# Issue "three systems in one run": a seed kernel kexecs into the next kernel, which mounts the AHCI disk
# and switch_roots into it; the disk's /init writes a result file and powers off. Debian stand-ins for
# what live-bootstrap's sysa would build. Each combination is one `lbvm boot`.
. /lbvm-tests/scenarios/lib.sh
KX=/lbvm-tests/kexec
KEXEC_TIMEOUT=600

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

# What cannot work: the i386 kexec-tools (a 32-bit sysa's) on a 64-bit seed kernel. Evidence: its message.
begin kexec-i386-tools-on-amd64-refused
cp "$KX/disk.img" "$WORK/refused.img"
run_lbvm "$WORK/refused" --kernel "$K64" --initrd "$KX/seed-i386tools-on-amd64.cpio" --memory 1G \
	--append "console=ttyS0 lbvmtest=kexec lbvm.next=switchroot" --disk "$WORK/refused.img" --timeout $KEXEC_TIMEOUT
evidence=$(grep -i -m1 -e "trampoline" -e "cross architecture" -e "kexec_load failed" -e "Cannot" "$WORK/refused.log" | tr -d '\r')
echo "LBVM-TEST: INFO kexec-i386-tools-on-amd64-refused: kexec-tools said: $evidence"
if grep -q "kexec_load=failed" "$WORK/refused.log" && [ -n "$evidence" ] && grep -q "32-bit kexec-tools" "$WORK/refused.err"; then
	pass
else
	fail "exit $rc; expected kexec-tools to refuse and lbvm to explain"; show "$WORK/refused"
fi
