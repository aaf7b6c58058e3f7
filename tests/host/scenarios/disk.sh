# Issue "a SATA disk": Linux's own ahci driver on lbvm's AHCI controller, with both Debian kernels.
. /lbvm-tests/scenarios/lib.sh
DISK_TIMEOUT=400
GUARD=$((DISK_TIMEOUT + 60))
# 100 MiB and 7 sectors: an odd size, so an off-by-one in IDENTIFY's capacity shows.
SECTORS=$((100 * 2048 + 7))

mkimage() { rm -f "$1"; dd if=/dev/zero of="$1" bs=512 count=0 seek="$2" 2>/dev/null; }

# disk_info NAME KERNEL: sda appears with the image's exact size
disk_info() {
	begin "$1"
	mkimage "$WORK/$1.img" $SECTORS
	run_lbvm "$WORK/$1" --kernel "$2" --initrd "$INITRD" --memory 512M --disk "$WORK/$1.img" \
		--append "console=ttyS0 pci=conf1 lbvmtest=disk-info" --timeout $DISK_TIMEOUT
	got=$(guest_value "$WORK/$1" sda_sectors)
	echo "LBVM-TEST: INFO $1: sda $got sectors, model '$(guest_value "$WORK/$1" sda_model)', queue depth $(guest_value "$WORK/$1" ncq_depth)"
	if [ "$rc" = 0 ] && [ "$got" = "$SECTORS" ]; then pass; else fail "exit $rc, sda has '$got' sectors, want $SECTORS"; show "$WORK/$1"; fi
}
disk_info disk-size-amd64 "$K64"
disk_info disk-size-686 "$K32"

begin disk-64mib-roundtrip
# Written by the amd64 kernel, synced, powered off; read back by a new boot of the 686 kernel.
mkimage "$WORK/rt.img" $((256 * 2048))
run_lbvm "$WORK/rt-w" --kernel "$K64" --initrd "$INITRD" --memory 512M --disk "$WORK/rt.img" \
	--append "console=ttyS0 pci=conf1 lbvmtest=disk-write" --timeout $DISK_TIMEOUT
wrc=$rc
wrote=$(guest_value "$WORK/rt-w" wrote_sha256)
host=$(dd if="$WORK/rt.img" bs=1M count=64 2>/dev/null | sha256sum | cut -d' ' -f1)
run_lbvm "$WORK/rt-r" --kernel "$K32" --initrd "$INITRD" --memory 512M --disk "$WORK/rt.img" \
	--append "console=ttyS0 pci=conf1 lbvmtest=disk-read" --timeout $DISK_TIMEOUT
read=$(guest_value "$WORK/rt-r" read_sha256)
echo "LBVM-TEST: INFO disk-64mib-roundtrip: guest wrote $wrote, image has $host, second boot read $read"
if [ "$wrc" = 0 ] && [ "$rc" = 0 ] && [ -n "$wrote" ] && [ "$wrote" = "$host" ] && [ "$read" = "$host" ]; then
	pass
else
	fail "exits $wrc/$rc, hashes differ"; show "$WORK/rt-w"; show "$WORK/rt-r"
fi

begin disk-guest-mkfs-e2fsck
mkimage "$WORK/fs.img" $((128 * 2048))
run_lbvm "$WORK/fs" --kernel "$K32" --initrd "$INITRD" --memory 512M --disk "$WORK/fs.img" \
	--append "console=ttyS0 pci=conf1 lbvmtest=disk-mkfs" --timeout $DISK_TIMEOUT
e2fsck -fn "$WORK/fs.img" >"$WORK/fs.fsck" 2>&1
frc=$?
if [ "$rc" = 0 ] && grep -q "umount=ok" "$WORK/fs.log" && [ "$frc" = 0 ]; then
	echo "LBVM-TEST: INFO disk-guest-mkfs-e2fsck: $(tail -n1 "$WORK/fs.fsck")"
	pass
else
	fail "exit $rc, e2fsck -fn exit $frc"; cat "$WORK/fs.fsck"; show "$WORK/fs"
fi

begin disk-read-only-unchanged
mkimage "$WORK/ro.img" $((16 * 2048))
dd if=/dev/urandom of="$WORK/ro.img" bs=1M count=16 conv=notrunc 2>/dev/null
before=$(sha256sum "$WORK/ro.img" | cut -d' ' -f1)
run_lbvm "$WORK/ro" --kernel "$K64" --initrd "$INITRD" --memory 512M --disk "$WORK/ro.img,ro" \
	--append "console=ttyS0 pci=conf1 lbvmtest=disk-try-write" --timeout $DISK_TIMEOUT
after=$(sha256sum "$WORK/ro.img" | cut -d' ' -f1)
if [ "$rc" = 0 ] && [ "$(guest_value "$WORK/ro" ro_write)" = failed ] && [ "$before" = "$after" ]; then
	pass
else
	fail "exit $rc, guest write '$(guest_value "$WORK/ro" ro_write)', image $before -> $after"; show "$WORK/ro"
fi

begin disk-two-disks-sda-sdb
# Port n is the n-th --disk, always: lbvm's part, checked through the ATA port behind each name. The
# letters come from Linux's sd driver, which names disks as its asynchronous probes finish; sd_mod loaded
# before ahci makes that port order in practice, and the scenario reports which name each port got.
mkimage "$WORK/a.img" $((32 * 2048))
mkimage "$WORK/b.img" $((48 * 2048 + 1))
run_lbvm "$WORK/two" --kernel "$K32" --initrd "$INITRD" --memory 512M --disk "$WORK/a.img" --disk "$WORK/b.img" \
	--append "console=ttyS0 pci=conf1 lbvmtest=disk-info lbvm.disks=2" --timeout $DISK_TIMEOUT
p1=$(guest_value "$WORK/two" ata1_disk)
p2=$(guest_value "$WORK/two" ata2_disk)
echo "LBVM-TEST: INFO disk-two-disks-sda-sdb: port 0 (ata1) = $p1 sectors, port 1 (ata2) = $p2 sectors"
names=$(echo "${p1%% *} ${p2%% *}" | tr ' ' '\n' | sort | tr '\n' ' ')
if [ "$rc" = 0 ] && [ "${p1#* }" = $((32 * 2048)) ] && [ "${p2#* }" = $((48 * 2048 + 1)) ] && [ "$names" = "sda sdb " ]; then
	[ "${p1%% *}" = sda ] || echo "LBVM-TEST: INFO disk-two-disks-sda-sdb: Linux's sd named port 1 first this time"
	pass
else
	fail "exit $rc, ata1 '$p1' ata2 '$p2' (name sectors), want sda/sdb with $((32 * 2048)) and $((48 * 2048 + 1))"; show "$WORK/two"
fi
