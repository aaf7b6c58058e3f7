# Payload of the bench suite: QEMU (the reference VMM) with its libraries and the firmware it loads for a
# -kernel boot, copied into the test host. Usage: bench.sh FIXTURE-CACHE OUTER-ROOT OUT (run by build-initramfs.sh)
set -eu
h=$2
qemu=$(command -v qemu-system-x86_64)
. "$(dirname "$0")/../copy-libs.sh"
copy_with_libs "$qemu" "$h" /usr/bin/qemu-system-x86_64
mkdir -p "$h/usr/share/qemu"
for f in bios-256k.bin linuxboot_dma.bin linuxboot.bin kvmvapic.bin; do
	src=$(ls /usr/share/qemu/$f /usr/share/seabios/$f 2>/dev/null | head -n1)
	[ -n "$src" ] || { echo "bench payload: QEMU firmware $f not found" >&2; exit 1; }
	cp -L "$src" "$h/usr/share/qemu/$f"
done
