#!/bin/sh
# The main job for a newcomer (`make run`): boot Debian's amd64 kernel with a busybox shell on the console
# in lbvm. Needs /dev/kvm. Type `poweroff -f` in the guest, or Ctrl-A x, to end.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lbvm=$1
cache=$("$here/fixtures.sh")
out=${DEMO_OUT:-$here/../../build/demo}
"$here/build-guest-initramfs.sh" "$cache" "$out/initramfs.cpio"
exec "$lbvm" boot --kernel "$(ls "$cache"/amd64/boot/vmlinuz-* | head -n1)" --initrd "$out/initramfs.cpio" \
	--memory 512M --append "console=ttyS0 quiet lbvmtest=shell" --serial-log "$out/serial.log"
