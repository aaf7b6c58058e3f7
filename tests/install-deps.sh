#!/bin/sh
# Install what building and testing lbvm needs, on Debian or Ubuntu. Uses sudo when not root. Registry
# errors are retried (tests/apt.sh); when the packages cannot be installed, the last line says why.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(grep -v '^#' "$here/deps/debian-packages.txt" | tr '\n' ' ')
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The KVM test host is QEMU's software emulation of nested SVM. QEMU 10, from the release's backports suite
# where the machine's package sources offer it, boots the test host's guests about a fifth faster than
# bookworm's 7.2 (docs/testing.md), so that one comes from there when it can.
qemu_major() { v=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true); v=${v#*:}; echo "${v%%.*}"; }
backports=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-none}-backports")
backports_qemu_major() {
	v=$(apt-cache madison qemu-system-x86 2>/dev/null | awk -v s="$backports/" 'index($0, s) { print $3; exit }')
	v=${v#*:}
	echo "${v%%.*}"
}
want_qemu=
[ "$(qemu_major)" -ge 10 ] 2>/dev/null || { [ "$(backports_qemu_major)" -ge 10 ] 2>/dev/null && want_qemu=1; }
[ -z "$missing" ] && [ -z "$want_qemu" ] && { echo "install-deps: all packages present"; exit 0; }
APT_SUDO=""
[ "$(id -u)" = 0 ] || APT_SUDO=sudo
APT_WHO=install-deps
APT_HINT="run make check (or tests/install-deps.sh) again in a few minutes"
. "$here/apt.sh"
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	# shellcheck disable=SC2086 # one word per package
	apt_update $missing
	# shellcheck disable=SC2086
	apt_get install -y -q --no-install-recommends $missing
fi
# Checked again after the index refresh: the backports suite may have appeared in it.
[ "$(qemu_major)" -ge 10 ] 2>/dev/null || { [ "$(backports_qemu_major)" -ge 10 ] 2>/dev/null && want_qemu=1; }
if [ -n "$want_qemu" ] && ! [ "$(qemu_major)" -ge 10 ] 2>/dev/null; then
	echo "install-deps: QEMU $(backports_qemu_major) from $backports for the KVM test host"
	apt_get install -y -q --no-install-recommends -t "$backports" qemu-system-x86
fi
