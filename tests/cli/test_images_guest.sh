#!/bin/sh
# The images inside a real Linux guest: Debian's kernel boots an initramfs made by `lbvm mkinitramfs`
# (its /dev/console comes from a spec file), loads the AHCI and ext4 modules, mounts three disks made by
# `lbvm mkdisk` (ext4 and ext3 partitioned at 1 MiB, ext2 raw), checks their content, writes a file to
# each; the host then reads those files back with `lbvm disk cat` and runs e2fsck.
# The guest runs under QEMU (software emulation, the reference VMM of DESIGN.md) because lbvm's own VMM
# needs /dev/kvm and its disk controller; the same scenario under lbvm belongs to tests/host/.
# Needs the test-host fixtures (tests/host/fixtures.sh): kernel, modules and busybox-static, amd64.
set -u
: "${LBVM:?set LBVM to the lbvm binary}"
fixtures=${LBVM_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/lbvm/fixtures}/amd64
name=guest_boots_initramfs_and_mounts_disks
GUEST_TIMEOUT=240

kernel=$(ls "$fixtures"/boot/vmlinuz-* 2>/dev/null | head -n1)
moddir=$(ls -d "$fixtures"/lib/modules/* 2>/dev/null | head -n1)
for need in qemu-system-x86_64 modinfo; do
	command -v "$need" >/dev/null 2>&1 || { echo "SKIP $name: $need is not installed (tests/deps/debian-packages.txt)"; echo END; exit 0; }
done
if [ -z "$kernel" ] || [ -z "$moddir" ] || [ ! -x "$fixtures/bin/busybox" ]; then
	# The fixtures are part of the test (make cli-tests fetches them first): missing ones fail it.
	echo "FAIL $name: no fixtures in $fixtures (run tests/host/fixtures.sh, or make cli-tests)"
	echo END
	exit 0
fi

work=$(mktemp -d /tmp/lbvm-guest-XXXXXX)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

# modules in load order: each after what `modinfo -F depends` says it needs
order=""
find_ko() { find "$moddir" \( -name "$1.ko*" -o -name "$(echo "$1" | tr _ -).ko*" \) | head -n1; }
visit() {
	local n f
	for n in $(echo "$1" | tr ',' ' '); do
		case " $order " in *" $n "*) continue ;; esac
		f=$(find_ko "$n")
		[ -n "$f" ] || { echo "SKIP $name: module $n not in the fixtures"; echo END; exit 0; }
		visit "$(modinfo -F depends "$f")"
		case " $order " in *" $n "*) continue ;; esac
		order="$order $n"
	done
}
visit "ahci,sd_mod,ext4,crc32c_generic"
mkdir -p "$work/root/bin" "$work/root/mods"
cp "$fixtures/bin/busybox" "$work/root/bin/busybox"
for n in $order; do
	f=$(find_ko "$n")
	case $f in *.xz|*.zst|*.gz) echo "SKIP $name: compressed modules ($f) need a decompressing insmod"; echo END; exit 0 ;; esac
	cp "$f" "$work/root/mods/"
	basename "$f" >> "$work/root/mods/order"
done
cat > "$work/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /mnt
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m || echo "GUEST insmod-failed $m"; done
# what the initramfs itself carried: a hard link, and a device node made by the spec
[ /bin/busybox -ef /bin/busybox-again ] && [ -s /bin/busybox-again ] && echo "GUEST initramfs hardlink=ok"
echo "GUEST initramfs node=$(stat -c '%F %t %T %a' /spec/null)"
i=0 # wait for the three disks' partitions to be probed
while [ "$(ls /dev/sd* 2>/dev/null | wc -l)" -lt 5 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
# disks are told apart by their content (probe order can vary): each carries /disk-id
for dev in sda sda1 sdb sdb1 sdc sdc1; do
	[ -b /dev/$dev ] || continue
	mount /dev/$dev /mnt 2>/dev/null || continue
	id=$(cat /mnt/disk-id)
	echo "GUEST $id type=$(awk '$2 == "/mnt" { print $3 }' /proc/mounts)"
	echo "GUEST $id conf=$(cat /mnt/etc/conf)"
	echo "GUEST $id entries=$(find /mnt -xdev | wc -l)"
	echo "GUEST $id link=$(readlink /mnt/usr/hello-link)"
	echo "written by the guest on $id" > /mnt/from-guest
	umount /mnt && echo "GUEST $id unmounted"
done
poweroff -f
INIT
chmod 755 "$work/root/init"
ln "$work/root/bin/busybox" "$work/root/bin/busybox-again"
printf 'dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\ndir /spec 0755 0 0\nnod /spec/null 0640 0 0 c 1 3\n' > "$work/spec"

mkdir -p "$work/tree/etc" "$work/tree/usr/src"
printf 'key=value\n' > "$work/tree/etc/conf"
printf 'x\n' > "$work/tree/usr/src/file"
ln -s ../etc/conf "$work/tree/usr/hello-link"
entries=$(find "$work/tree" | wc -l)
entries=$((entries + 2)) # + /disk-id and /lost+found

for id in ext4 ext3 ext2; do printf '%s\n' "$id" > "$work/id-$id"; done
if ! "$LBVM" mkinitramfs "$work/root" -o "$work/initrd.gz" --gzip --spec "$work/spec" 2>"$work/err" ||
   ! { cp "$work/id-ext4" "$work/tree/disk-id" && "$LBVM" mkdisk "$work/tree" -o "$work/ext4.img" --size 64M; } 2>>"$work/err" ||
   ! { cp "$work/id-ext3" "$work/tree/disk-id" && "$LBVM" mkdisk "$work/tree" -o "$work/ext3.img" --size 64M --fs ext3; } 2>>"$work/err" ||
   ! { cp "$work/id-ext2" "$work/tree/disk-id" && "$LBVM" mkdisk "$work/tree" -o "$work/ext2.img" --size 32M --fs ext2 --raw; } 2>>"$work/err"; then
	echo "FAIL $name: building the images: $(cat "$work/err")"
	echo END
	exit 0
fi
timeout "$GUEST_TIMEOUT" qemu-system-x86_64 -M q35 -m 512 -nographic -no-reboot -kernel "$kernel" \
	-initrd "$work/initrd.gz" -append "console=ttyS0 panic=-1 quiet" \
	-drive file="$work/ext4.img",format=raw,if=none,id=d0 -device ide-hd,drive=d0,bus=ide.0 \
	-drive file="$work/ext3.img",format=raw,if=none,id=d1 -device ide-hd,drive=d1,bus=ide.1 \
	-drive file="$work/ext2.img",format=raw,if=none,id=d2 -device ide-hd,drive=d2,bus=ide.2 \
	>"$work/console" 2>&1
rc=$?
guest=$(tr -d '\r' < "$work/console" | grep -ao 'GUEST .*')
[ "$rc" = 0 ] || { echo "FAIL $name: qemu exit $rc: $(tail -c 400 "$work/console" | tr '\n\r' '  ')"; echo END; exit 0; }

ok=1
why=
for want in "initramfs hardlink=ok" "initramfs node=character special file 1 3 640"; do
	echo "$guest" | grep -qx "GUEST $want" || { ok=0; why="$why $want"; }
done
for c in "ext4 2048" "ext3 2048" "ext2 0"; do
	set -- $c
	for want in "type=$1" "conf=key=value" "entries=$entries" "link=../etc/conf" "unmounted"; do
		echo "$guest" | grep -qx "GUEST $1 $want" || { ok=0; why="$why $1:$want"; }
	done
	back=$("$LBVM" disk cat "$work/$1.img" /from-guest 2>&1)
	[ "$back" = "written by the guest on $1" ] || { ok=0; why="$why $1:read-back($back)"; }
	dd if="$work/$1.img" of="$work/part" bs=512 skip="$2" conv=sparse status=none
	e2fsck -fn "$work/part" >/dev/null 2>&1 || { ok=0; why="$why $1:e2fsck-after-guest"; }
done
if [ "$ok" = 1 ]; then
	echo "PASS $name (QEMU reference guest, $(basename "$kernel"))"
else
	echo "FAIL $name:$why | $(echo "$guest" | tr '\n' '|')"
fi
echo END
