#!/bin/sh
# The guests' initramfs: Debian's i386 busybox (it runs on the 686 and, through IA32 emulation, the amd64
# kernel), tests/host/guest/init (it acts on lbvmtest=NAME from the kernel command line), and for each
# fixture kernel the modules a SATA disk with ext4 needs, in load order (lib/modules/VERSION/load-order),
# those a disk on the legacy IDE channel needs (load-order-ide: pata_legacy, no PCI IDE function), and
# those the e1000 network card needs (lib/modules/VERSION/net-order).
# Usage: build-guest-initramfs.sh FIXTURE-CACHE OUT.cpio [EXTRA-DIR]   (EXTRA-DIR is copied over the root)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=$1 dest=$2 extra=${3:-}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin"
install -m 0755 "$cache/i386/bin/busybox" "$root/bin/busybox"
install -m 0755 "$here/guest/init" "$root/init"
for arch in amd64 i386; do
	for kdir in "$cache/$arch/lib/modules"/*; do
		kver=$(basename "$kdir")
		mkdir -p "$root/lib/modules/$kver"
		# sd_mod before ahci: sd probes asynchronously, and when it attaches to disks that already exist it
		# names them in whatever order its probes finish; loaded first, it names each disk as its port
		# is scanned, and libata scans ports in order: sda, sdb follow lbvm's --disk order.
		"$here/module-order.sh" "$kdir" crc32c_generic crct10dif_generic sd_mod ahci ext4 >"$root/lib/modules/$kver/load-order"
		"$here/module-order.sh" "$kdir" crct10dif_generic sd_mod pata_legacy >"$root/lib/modules/$kver/load-order-ide"
		"$here/module-order.sh" "$kdir" e1000 >"$root/lib/modules/$kver/net-order"
		sort -u "$root/lib/modules/$kver/load-order" "$root/lib/modules/$kver/load-order-ide" "$root/lib/modules/$kver/net-order" | while read -r ko; do
			mkdir -p "$root/lib/modules/$kver/$(dirname "$ko")"
			cp "$kdir/$ko" "$root/lib/modules/$kver/$ko"
		done
	done
done
[ -n "$extra" ] && cp -a "$extra/." "$root/"
mkdir -p "$(dirname "$dest")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$dest.tmp"
mv "$dest.tmp" "$dest"
