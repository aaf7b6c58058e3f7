#!/bin/sh
# Assemble the two initramfs archives of the KVM test host:
#   OUT/guest/initramfs.cpio   the guests' system: i386 busybox (runs on both kernels) + guest/init
#   OUT/outer.cpio             the test host: amd64 busybox, kvm modules, lbvm with its libraries, the guest
#                              kernels and initramfs, the scenario scripts (and QEMU for the bench suite)
# Usage: build-initramfs.sh FIXTURE-CACHE LBVM SUITES OUT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=$1 lbvm=$2 suites=$3 out=$4
cc=${CC:-cc}

# pack DIR FILE: a newc archive, entries sorted, owned by root
pack() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"; }

. "$here/copy-libs.sh"

# --- the guests' initramfs ---------------------------------------------------------------------------
"$here/build-guest-initramfs.sh" "$cache" "$out/guest/initramfs.cpio"

# --- the test host -----------------------------------------------------------------------------------
h=$out/outer-root
rm -rf "$h"
mkdir -p "$h/bin" "$h/lib/lbvm-modules" "$h/lbvm-tests/guest" "$h/etc"
install -m 0755 "$cache/amd64/bin/busybox" "$h/bin/busybox"
install -m 0755 "$here/outer/init" "$h/init"
for m in irqbypass ccp kvm kvm-amd; do
	f=$(find "$cache/amd64/lib/modules" -name "$m.ko*" | head -n1)
	[ -n "$f" ] || { echo "build-initramfs: module $m not in the fixtures" >&2; exit 1; }
	case "$f" in
	*.xz) xz -dc "$f" >"$h/lib/lbvm-modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$h/lib/lbvm-modules/$m.ko" ;;
	*) cp "$f" "$h/lib/lbvm-modules/$m.ko" ;;
	esac
done
copy_with_libs "$lbvm" "$h" /usr/local/bin/lbvm
# e2fsprogs' checkers, to judge the disks guests leave behind
for tool in e2fsck debugfs; do
	copy_with_libs "$(command -v $tool || echo /sbin/$tool)" "$h" "/usr/local/bin/$tool"
done
"$cc" -O2 -o "$out/runas" "$here/runas.c"
install -m 0755 "$out/runas" "$h/usr/local/bin/lbvm-runas"
cp "$(ls "$cache"/amd64/boot/vmlinuz-* | head -n1)" "$h/lbvm-tests/guest/vmlinuz-amd64"
cp "$(ls "$cache"/i386/boot/vmlinuz-* | head -n1)" "$h/lbvm-tests/guest/vmlinuz-686"
cp "$out/guest/initramfs.cpio" "$h/lbvm-tests/guest/initramfs.cpio"
cp -r "$here/scenarios" "$h/lbvm-tests/scenarios"
# Extra payloads a suite needs are assembled by its own hook, if it has one.
for s in $(echo "$suites" | tr ',' ' '); do
	hook="$here/payloads/$s.sh"
	[ -f "$hook" ] && sh "$hook" "$cache" "$h" "$out"
done
echo "root:x:0:0:root:/tmp:/bin/sh" >"$h/etc/passwd"
echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" >>"$h/etc/passwd"
pack "$h" "$out/outer.cpio"
echo "build-initramfs: outer.cpio $(du -m "$out/outer.cpio" | cut -f1) MiB, guest initramfs $(du -k "$out/guest/initramfs.cpio" | cut -f1) KiB" >&2
