#!/bin/sh
# The KVM test host: boot Debian's amd64 kernel under QEMU's software emulation (-cpu max: SVM with nested
# paging), load kvm-amd inside it, and run the scenario suites there against real /dev/kvm. Prints every
# "LBVM-TEST:" line as it comes; fails when a scenario fails (in any boot), a scenario has no result, a
# suite stalls twice, or the host does not finish (tests/host/supervise.sh judges; docs/testing.md).
#   tests/host/run.sh LBVM [SUITE,...]      suites: tests/host/scenarios/*.sh (default: all but lib, bench* and probe)
# Environment: HOST_OUT (logs, default build/host), and supervise.sh's HOST_* settings.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lbvm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
suites=${2:-$(cd "$here/scenarios" && ls *.sh | sed 's/\.sh$//' | grep -v -e '^lib$' -e '^bench' -e '^probe$' | tr '\n' ',' | sed 's/,$//')}
out=${HOST_OUT:-$root/build/host}
mkdir -p "$out"

# No scenario runs without its fixtures: fixtures.sh's last line says what failed and how to retry.
cache=$("$here/fixtures.sh") || { echo "host: the fixtures are missing (see the line above); no test ran"; exit 1; }
"$here/build-initramfs.sh" "$cache" "$lbvm" "$suites" "$out"
kernel=$(ls "$cache"/amd64/boot/vmlinuz-* | head -n1)
echo "host: emulator $("${HOST_QEMU:-qemu-system-x86_64}" --version 2>/dev/null | head -n1)"
HOST_OUT=$out exec "$here/supervise.sh" "$kernel" "$out/outer.cpio" "$suites"
