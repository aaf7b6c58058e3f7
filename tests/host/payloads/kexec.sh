# Payload of the kexec suite: seed initramfs archives that hold Debian's kexec-tools (i386 for a 686 seed,
# amd64 for an amd64 seed) with the libraries it links, the next kernel and the next system's initramfs,
# plus an ext4 disk image whose /init ends the run. Usage: kexec.sh FIXTURE-CACHE OUTER-ROOT OUT
set -eu
cache=$1 h=$2 out=$3
here=$(cd "$(dirname "$0")/.." && pwd)
dest=$h/lbvm-tests/kexec
mkdir -p "$dest"

# copy_needed ELF ROOT LIBDIR SEARCH...: the shared libraries ELF needs, transitively, into ROOT/LIBDIR
copy_needed() {
	local elf=$1 root=$2 libdir=$3 lib dir found
	shift 3
	for lib in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$root/$libdir/$lib" ] && continue
		found=
		for dir in "$@"; do
			if [ -e "$dir/$lib" ]; then found=$(readlink -f "$dir/$lib"); break; fi
		done
		[ -n "$found" ] || { echo "kexec payload: $lib (needed by $elf) not found" >&2; exit 1; }
		install -D -m 0755 "$found" "$root/$libdir/$lib"
		copy_needed "$found" "$root" "$libdir" "$@"
	done
}

# seed NAME SEED-ARCH NEXT-KERNEL: one seed system's extra files (kexec, its libraries, the next system)
seed() {
	local name=$1 arch=$2 next=$3 x=$out/kexec-$1
	rm -rf "$x"
	mkdir -p "$x/sbin" "$x/next"
	install -m 0755 "$cache/$arch/sbin/kexec" "$x/sbin/kexec"
	if [ "$arch" = i386 ]; then
		install -D -m 0755 "$(readlink -f "$cache/i386/lib/i386-linux-gnu/ld-linux.so.2")" "$x/lib/ld-linux.so.2"
		copy_needed "$x/sbin/kexec" "$x" lib/i386-linux-gnu "$cache/i386/lib/i386-linux-gnu" "$cache/i386/usr/lib/i386-linux-gnu"
	else
		install -D -m 0755 "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$x/lib64/ld-linux-x86-64.so.2"
		copy_needed "$x/sbin/kexec" "$x" lib/x86_64-linux-gnu "$cache/amd64/usr/lib/x86_64-linux-gnu" \
			"$cache/amd64/lib/x86_64-linux-gnu" /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu
	fi
	cp "$(ls "$cache"/$next/boot/vmlinuz-* | head -n1)" "$x/next/vmlinuz"
	cp "$out/guest/initramfs.cpio" "$x/next/initramfs.cpio"
	"$here/build-guest-initramfs.sh" "$cache" "$dest/seed-$name.cpio" "$x"
}
# live-bootstrap's sysa userland is i386, so its kexec-tools is i386 whatever the seed kernel: the three
# combinations use Debian's kexec-tools:i386; one more uses Debian's amd64 build on the amd64 seed.
seed 686-to-686 i386 i386
seed amd64-to-686 i386 i386
seed amd64-to-amd64 i386 amd64
seed amd64-to-amd64-amd64tools amd64 amd64

# The disk the next system switch_roots into: /init writes a result file and powers off.
d=$out/kexec-disk
rm -rf "$d"
mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev"
install -m 0755 "$cache/i386/bin/busybox" "$d/bin/busybox"
cat >"$d/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox echo "LBVM-GUEST: sysc=reached kernel=$(/bin/busybox uname -r)"
/bin/busybox echo "sysc ran on $(/bin/busybox uname -r); seed said: $(/bin/busybox cat /seed-note 2>/dev/null)" >/result
/bin/busybox sync
/bin/busybox poweroff -f
INIT
chmod 0755 "$d/init"
rm -f "$dest/disk.img"
truncate -s 64M "$dest/disk.img"
echo 'start=2048, type=83' | sfdisk -q "$dest/disk.img"
mke2fs -q -t ext4 -F -E offset=1048576 -d "$d" "$dest/disk.img" 63M
