#!/bin/sh
# Fetch and unpack the KVM test host's fixtures from Debian's package registry into a cache outside git:
#   $CACHE/amd64/   linux-image (test-host kernel, nested amd64 guest kernel, kvm modules), busybox-static
#   $CACHE/i386/    linux-image-686 (32-bit guest kernel), busybox-static:i386, kexec-tools:i386 + libs,
#                   mescc-tools:i386 (kaem)
# Prints the cache directory. Idempotent: a fixture already unpacked is kept.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${LBVM_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/lbvm/fixtures}
mkdir -p "$CACHE/debs"
APT_SUDO=""
[ "$(id -u)" = 0 ] || APT_SUDO=sudo
APT_WHO=fixtures
APT_HINT="run make check (or tests/host/fixtures.sh) again in a few minutes"
. "$here/../apt.sh"
# Every package the fixtures come from (the two kernel meta packages name the exact kernel packages).
# amd64 kexec-tools links Xen's control library; the seed kernels' amd64 kexec needs it and its own deps.
AMD64_PKGS="linux-image-amd64 busybox-static kexec-tools libxenmisc4.17 libxencall1 libxendevicemodel1
	libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenhypfs1 libxenstore4 libxentoollog1 libxentoolcore1
	libyajl2"
# mescc-tools:i386: a real kaem for the synthetic live-bootstrap trees (tests/bootstrap/)
I386_PKGS="linux-image-686:i386 busybox-static:i386 kexec-tools:i386 zlib1g:i386 liblzma5:i386 libc6:i386
	mescc-tools:i386"

# failed WHAT: the one last line when a step fails for a reason other than the registry's apt-get
failed() { echo "fixtures: $*; $APT_HINT" >&2; exit 1; }

refresh=0
if ! dpkg --print-foreign-architectures | grep -qx i386; then
	$APT_SUDO dpkg --add-architecture i386 || failed "dpkg --add-architecture i386 failed"
	refresh=1
fi
# The meta packages name the current kernel package; resolve them so the cache key is exact.
resolve() { apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: //p' | grep '^linux-image-' | head -n1; }
k64=$(resolve linux-image-amd64)
k32=$(resolve linux-image-686:i386)
if [ "$refresh" = 1 ] || [ -z "$k64" ] || [ -z "$k32" ]; then
	# shellcheck disable=SC2086 # one word per package
	apt_update $AMD64_PKGS $I386_PKGS
	k64=$(resolve linux-image-amd64)
	k32=$(resolve linux-image-686:i386)
fi
[ -n "$k64" ] && [ -n "$k32" ] ||
	failed "the index names no kernel package for linux-image-amd64 ('$k64') or linux-image-686:i386 ('$k32')"

# download NAME DESTDIR: apt-get download into the deb cache once, then dpkg -x into DESTDIR.
download() {
	pkg=$1 dest=$2
	stamp="$dest/.unpacked-$(echo "$pkg" | tr ':/' '__')"
	[ -f "$stamp" ] && return 0
	(cd "$CACHE/debs" && ls ./*.deb >/dev/null 2>&1 && ls | grep -q "^$(echo "${pkg%%:*}" | sed 's/+/\\+/g')_.*_$(arch_of "$pkg")\.deb$") ||
		(cd "$CACHE/debs" && apt_get --user download -q "$pkg") || exit 1
	deb=$(ls "$CACHE/debs" | grep "^$(echo "${pkg%%:*}" | sed 's/+/\\+/g')_.*_\($(arch_of "$pkg")\|all\)\.deb$" | head -n1)
	[ -n "$deb" ] || failed "no .deb of $pkg in $CACHE/debs after downloading it"
	mkdir -p "$dest"
	dpkg -x "$CACHE/debs/$deb" "$dest" || failed "cannot unpack $CACHE/debs/$deb"
	touch "$stamp"
}
arch_of() { case "$1" in *:i386) echo i386 ;; *) echo amd64 ;; esac; }

for p in $AMD64_PKGS; do
	[ "$p" = linux-image-amd64 ] && p=$k64
	download "$p" "$CACHE/amd64"
done
for p in $I386_PKGS; do
	[ "$p" = linux-image-686:i386 ] && p=$k32
	download "$p" "$CACHE/i386"
done
echo "$CACHE"
