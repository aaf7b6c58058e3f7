# lbvm boot --firmware: lbvm's own BIOS boots a disk. A boot sector written for the tests
# (tests/firmware/testboot.S) exercises INT 13h/10h/15h from protected mode the way builder-hex0 does,
# drives the IDE disk and the PIT itself and jumps to the reset vector; the same boot sector hands over to
# Debian's 686 kernel with the 32-bit boot protocol, which finds the disk with pata_legacy; small boot
# sectors reset the machine every way a PC can. The host checks the console and what landed on the disks.
. /lbvm-tests/scenarios/lib.sh
FW=/lbvm-tests/firmware
FW_TIMEOUT=300
GUARD=$((FW_TIMEOUT + 60))
MARK_LBA=100000 # where testboot.S's Linux command line (lbvm.mark=) says the marker is

# sectors IMAGE LBA COUNT: those sectors of IMAGE on stdout
sectors() { dd if="$1" bs=512 skip="$2" count="$3" 2>/dev/null; }

# ---- the test boot sector, with the default 4 GiB -----------------------------------------------------
begin firmware-testboot
img=$WORK/testboot.img
rm -f "$img"
truncate -s 8M "$img"
dd if="$FW/testboot.bin" of="$img" conv=notrunc 2>/dev/null
dd if=/dev/urandom of="$WORK/stream" bs=512 count=2048 2>/dev/null
dd if="$WORK/stream" of="$img" bs=512 seek=64 conv=notrunc 2>/dev/null
run_lbvm "$WORK/testboot" --firmware --disk "$img" --timeout $FW_TIMEOUT
log=$WORK/testboot.log
grep '^LBVM-BOOT:' "$log" | tr -d '\r' | sed 's/^/LBVM-TEST: INFO firmware-testboot: /'
result=$(sectors "$img" 8300 1 | tr -d '\000')
dd if="$WORK/stream" bs=512 skip=16 count=16 2>/dev/null >"$WORK/stream.ide" # what WRITE MULTIPLE wrote
echo "LBVM-TEST: INFO firmware-testboot: result sector: $result"
pattern=$(sectors "$img" $((8192 + 16)) 2 | tr -d '\000')
if [ "$rc" != 0 ] || ! grep -q "guest rebooted after .*reset vector" "$WORK/testboot.err"; then
	fail "exit $rc, not the reset vector's reboot"; show "$WORK/testboot"
elif grep -q "LBVM-BOOT: FAIL" "$log" || ! grep -q "failures=00000000" "$log"; then
	fail "the boot sector reports failures"; show "$WORK/testboot"
elif ! grep -q "e820 0000000000100000 00000000BFF00000 00000001" "$log" ||
	! grep -q "e820 0000000100000000 0000000040000000 00000001" "$log" ||
	[ "$(grep -c 'LBVM-BOOT: e820 ' "$log")" != 6 ]; then
	fail "INT 15h E820 is not the 4 GiB machine's map (3 GiB contiguous from 1 MiB, 1 GiB from 4 GiB)"; show "$WORK/testboot"
elif ! grep -q "a20 query al,cf=00000001 00000000 00000000" "$log"; then
	fail "A20 calls"; show "$WORK/testboot"
elif ! grep -q "ide identify model=lbvm raw disk" "$log"; then
	fail "IDE IDENTIFY"; show "$WORK/testboot"
elif ! grep -q "pit ticks without eoi=00000001" "$log"; then
	fail "vector 8 without EOI took other than one tick"; show "$WORK/testboot"
elif ! sectors "$img" 4096 2048 | cmp -s - "$WORK/stream"; then
	fail "the stream written back through INT 13h AH=43h differs from the one read"
elif ! sectors "$img" 8192 16 | cmp -s - "$WORK/stream.ide"; then
	fail "the sectors written through the IDE registers (WRITE MULTIPLE) differ"
elif [ "$pattern" != "$(for i in $(seq 64); do printf 'LBVM IDE LBA48! '; done)" ]; then
	fail "the sectors written with WRITE SECTORS EXT differ"
else
	case "$result" in
	"LBVM-RESULT ok "*) pass ;;
	*) fail "result sector '$result'" ;;
	esac
fi

# ---- the same boot sector enters Linux, which finds the disk with pata_legacy --------------------------
begin firmware-linux
img=$WORK/linux.img
rm -f "$img"
truncate -s 64M "$img"
kbytes=$(wc -c <"$K32")
dd if="$FW/linuxboot.bin" of="$img" conv=notrunc 2>/dev/null
dd if="$K32" of="$img" bs=512 seek=64 conv=notrunc 2>/dev/null
dd if="$INITRD" of="$img" bs=512 seek=$((64 + (kbytes + 511) / 512)) conv=notrunc 2>/dev/null
mark="LBVM-IDE-MARKER-$(cut -d' ' -f1 /proc/uptime)"
echo "$mark" | dd of="$img" bs=512 seek=$MARK_LBA conv=notrunc,sync 2>/dev/null
run_lbvm "$WORK/linux" --firmware --disk "$img" --memory 512M --timeout $FW_TIMEOUT
log=$WORK/linux.log
answer=$(sectors "$img" $((MARK_LBA + 1)) 1 | tr -d '\000\n')
for key in ide_path ide_model ide_sectors ide_mark ide_write; do
	echo "LBVM-TEST: INFO firmware-linux: $key=$(guest_value "$WORK/linux" $key)"
done
grep '^LBVM-GUEST: e820 ' "$log" | tr -d '\r' | sed 's/^/LBVM-TEST: INFO firmware-linux: /'
if [ "$rc" != 0 ]; then
	fail "exit $rc"; show "$WORK/linux"
elif ! grep -q "LBVM-BOOT: linux loaded" "$log" || ! grep -q "stage seed kernel" "$WORK/linux.err"; then
	fail "the boot sector did not start the kernel"; show "$WORK/linux"
elif ! guest_value "$WORK/linux" ide_path | grep -q pata_legacy; then
	fail "the disk was not found through pata_legacy"; show "$WORK/linux"
elif [ "$(guest_value "$WORK/linux" ide_model)" != "lbvmrawdisk" ] ||
	[ "$(guest_value "$WORK/linux" ide_sectors)" != 131072 ]; then
	fail "model or size of the IDE disk"; show "$WORK/linux"
elif [ "$(guest_value "$WORK/linux" ide_mark)" != "$mark" ]; then
	fail "Linux read '$(guest_value "$WORK/linux" ide_mark)' at the marker, not '$mark'"; show "$WORK/linux"
elif [ "$answer" != "written by Linux through pata_legacy" ]; then
	fail "Linux's write is not on the disk: '$answer'"; show "$WORK/linux"
elif ! grep -q "^LBVM-GUEST: e820 0x0 0x9fbff System_RAM" "$log" ||
	! grep -q "^LBVM-GUEST: e820 0x100000 0x1fffffff System_RAM" "$log"; then
	fail "Linux's e820 map is not the one INT 15h gave the boot sector"; show "$WORK/linux"
else
	pass
fi

# ---- every way to reset ----------------------------------------------------------------------------------
# reset_check METHOD STATUS TEXT: the reset boot sector METHOD ends lbvm with STATUS and TEXT on stderr
reset_check() {
	img=$WORK/reset$1.img
	rm -f "$img"
	truncate -s 1M "$img"
	dd if="$FW/reset$1.bin" of="$img" conv=notrunc 2>/dev/null
	run_lbvm "$WORK/reset$1" --firmware --disk "$img" --memory 64M --timeout 60
	if [ "$rc" = "$2" ] && grep -q "$3" "$WORK/reset$1.err" && grep -q "LBVM-BOOT: resetting" "$WORK/reset$1.log"; then
		pass
	else
		fail "exit $rc ($2 expected)"; show "$WORK/reset$1"
	fi
}
begin firmware-reset-port92
reset_check 1 0 "rebooted .*port 92h"
begin firmware-reset-cf9
reset_check 2 0 "rebooted .*0xcf9"
begin firmware-reset-i8042
reset_check 3 0 "rebooted .*keyboard controller"
begin firmware-reset-triple-fault
reset_check 4 5 "triple fault"
