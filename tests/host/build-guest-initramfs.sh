#!/bin/sh
# The guests' initramfs: Debian's i386 busybox (it runs on the 686 and, through IA32 emulation, the amd64
# kernel) and tests/host/guest/init, which acts on lbvmtest=NAME from the kernel command line.
# Usage: build-guest-initramfs.sh FIXTURE-CACHE OUT.cpio
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=$1 dest=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin"
install -m 0755 "$cache/i386/bin/busybox" "$root/bin/busybox"
install -m 0755 "$here/guest/init" "$root/init"
mkdir -p "$(dirname "$dest")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$dest.tmp"
mv "$dest.tmp" "$dest"
