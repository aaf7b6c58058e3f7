# The network benchmark needs the same QEMU payload as the boot benchmark.
. "$(dirname "$0")/bench.sh"
