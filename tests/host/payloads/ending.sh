# Payload of the ending suite: the tiny test kernels (tests/host/testkernel), the pseudo-terminal
# runner (tests/host/ptyrun.c) and the stalled stdout (tests/host/stallpipe.c).
# Usage: ending.sh FIXTURE-CACHE OUTER-ROOT OUT (run by build-initramfs.sh)
set -eu
h=$2 out=$3
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/testkernel/build.sh" "$out/testkernel"
mkdir -p "$h/lbvm-tests/testkernel"
cp "$out/testkernel/"*.bin "$h/lbvm-tests/testkernel/"
${CC:-cc} -O2 -Wall -Wextra -Werror -o "$out/ptyrun" "$here/ptyrun.c"
install -D -m 0755 "$out/ptyrun" "$h/usr/local/bin/lbvm-ptyrun"
${CC:-cc} -O2 -Wall -Wextra -Werror -o "$out/stallpipe" "$here/stallpipe.c"
install -D -m 0755 "$out/stallpipe" "$h/usr/local/bin/lbvm-stallpipe"
