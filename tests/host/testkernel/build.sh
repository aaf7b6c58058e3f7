#!/bin/sh
# Assemble the tiny test kernels (kernel.S, one per mode) with Debian's binutils into OUT:
#   triple-fault.bin, kbc-reset.bin, panic-spin.bin        Usage: build.sh OUT
set -eu
src=$(cd "$(dirname "$0")" && pwd)/kernel.S
out=$1
mkdir -p "$out"
for m in 1:triple-fault 2:kbc-reset 3:panic-spin; do
	name=${m#*:}
	as --32 --defsym MODE="${m%%:*}" -o "$out/$name.o" "$src"
	# The .text section is the whole file: boot sector, setup header, then the code run at 1 MiB.
	objcopy -O binary -j .text "$out/$name.o" "$out/$name.bin"
	rm -f "$out/$name.o"
done
