# Issue "reproducible images": the guest boots from an initramfs made by `lbvm mkinitramfs` (with
# /dev/console from a spec file) and mounts a disk made by `lbvm mkdisk`, under lbvm's own AHCI; what the
# guest wrote is read back with `lbvm disk cat`, and the filesystem stays clean for e2fsck.
. /lbvm-tests/scenarios/lib.sh
IMG=/lbvm-tests/images
GUARD=460

begin images-boot-lbvm-initramfs-mount-lbvm-disk
cp "$IMG/disk.img" "$WORK/images.img"
run_lbvm "$WORK/images" --kernel "$K64" --initrd "$IMG/initramfs.cpio.gz" --memory 512M --disk "$WORK/images.img" \
	--append "console=ttyS0 pci=conf1 lbvmtest=images-mount" --timeout 400
back=$("$LBVM" disk cat "$WORK/images.img" /from-guest 2>&1)
dd if="$WORK/images.img" of="$WORK/images.part" bs=1M skip=1 2>/dev/null
e2fsck -fn "$WORK/images.part" >"$WORK/images.fsck" 2>&1
frc=$?
if [ "$rc" = 0 ] && [ "$(guest_value "$WORK/images" disk_id)" = lbvm-made ] &&
	[ "$(guest_value "$WORK/images" conf)" = key=value ] && [ "$back" = "written by the guest" ] && [ "$frc" = 0 ]; then
	pass
else
	fail "exit $rc, disk-id '$(guest_value "$WORK/images" disk_id)', read back '$back', e2fsck $frc"
	cat "$WORK/images.fsck"; show "$WORK/images"
fi
