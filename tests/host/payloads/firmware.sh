# Payload of the firmware suite: the test boot sector (tests/firmware/testboot.S) assembled for its two
# modes and the reset boot sectors (tests/firmware/reset.S), with Debian's binutils. The scenarios build
# their disk images in the test host from these, the 686 kernel and the guest initramfs already there.
# Usage: firmware.sh FIXTURE-CACHE OUTER-ROOT OUT
set -eu
cache=$1 h=$2 out=$3
src=$(cd "$(dirname "$0")/../../firmware" && pwd)
dest=$h/lbvm-tests/firmware
work=$out/firmware
mkdir -p "$dest" "$work"

# flat SOURCE OUT ORIGIN [as options...]: assemble and link at ORIGIN, keep the flat binary
flat() {
	local source=$1 bin=$2 origin=$3
	shift 3
	as --32 "$@" -o "$work/x.o" "$source"
	ld -m elf_i386 -Ttext="$origin" -e _start -o "$work/x.elf" "$work/x.o"
	objcopy -O binary "$work/x.elf" "$bin"
}

flat "$src/testboot.S" "$dest/testboot.bin" 0x7c00
# Linux mode needs the sizes of what it loads: the kernel and initramfs the test host carries.
kernel=$h/lbvm-tests/guest/vmlinuz-686
initrd=$h/lbvm-tests/guest/initramfs.cpio
flat "$src/testboot.S" "$dest/linuxboot.bin" 0x7c00 --defsym LINUX=1 \
	--defsym KERNEL_BYTES="$(wc -c <"$kernel")" --defsym INITRD_BYTES="$(wc -c <"$initrd")"
for m in 1 2 3 4; do
	flat "$src/reset.S" "$dest/reset$m.bin" 0 --defsym METHOD=$m
done
