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
[ -z "$missing" ] && { echo "install-deps: all packages present"; exit 0; }
APT_SUDO=""
[ "$(id -u)" = 0 ] || APT_SUDO=sudo
APT_WHO=install-deps
APT_HINT="run make check (or tests/install-deps.sh) again in a few minutes"
. "$here/apt.sh"
echo "install-deps: installing$missing"
# shellcheck disable=SC2086 # one word per package
apt_update $missing
# shellcheck disable=SC2086
apt_get install -y -q --no-install-recommends $missing
