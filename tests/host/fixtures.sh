#!/bin/sh
# Fetch and unpack the KVM test host's fixtures from Debian's package registry into a cache outside git:
#   $CACHE/amd64/   linux-image (test-host kernel, nested amd64 guest kernel, kvm modules), busybox-static
#   $CACHE/i386/    linux-image-686 (32-bit guest kernel), busybox-static:i386, kexec-tools:i386 + libs,
#                   mescc-tools:i386 (kaem)
# Prints the cache directory. Idempotent: a fixture already unpacked is kept.
set -eu
CACHE=${LBVM_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/lbvm/fixtures}
mkdir -p "$CACHE/debs"
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

if ! dpkg --print-foreign-architectures | grep -qx i386; then
	$sudo dpkg --add-architecture i386
	$sudo apt-get update -q >&2
fi
# The meta packages name the current kernel package; resolve them so the cache key is exact.
resolve() { apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: //p' | grep '^linux-image-' | head -n1; }
k64=$(resolve linux-image-amd64)
k32=$(resolve linux-image-686:i386)
if [ -z "$k64" ] || [ -z "$k32" ]; then
	$sudo apt-get update -q >&2
	k64=$(resolve linux-image-amd64)
	k32=$(resolve linux-image-686:i386)
fi
[ -n "$k64" ] && [ -n "$k32" ] || { echo "fixtures: cannot resolve Debian kernel packages" >&2; exit 1; }

# download NAME DESTDIR: apt-get download into the deb cache once, then dpkg -x into DESTDIR.
download() {
	pkg=$1 dest=$2
	stamp="$dest/.unpacked-$(echo "$pkg" | tr ':/' '__')"
	[ -f "$stamp" ] && return 0
	(cd "$CACHE/debs" && ls ./*.deb >/dev/null 2>&1 && ls | grep -q "^$(echo "${pkg%%:*}" | sed 's/+/\\+/g')_.*_$(arch_of "$pkg")\.deb$") ||
		(cd "$CACHE/debs" && apt-get download -q "$pkg" >&2)
	deb=$(ls "$CACHE/debs" | grep "^$(echo "${pkg%%:*}" | sed 's/+/\\+/g')_.*_\($(arch_of "$pkg")\|all\)\.deb$" | head -n1)
	mkdir -p "$dest"
	dpkg -x "$CACHE/debs/$deb" "$dest"
	touch "$stamp"
}
arch_of() { case "$1" in *:i386) echo i386 ;; *) echo amd64 ;; esac; }

download "$k64" "$CACHE/amd64"
download busybox-static "$CACHE/amd64"
download "$k32" "$CACHE/i386"
download busybox-static:i386 "$CACHE/i386"
# mescc-tools:i386: a real kaem for the synthetic live-bootstrap trees (tests/bootstrap/)
for p in kexec-tools:i386 zlib1g:i386 liblzma5:i386 libc6:i386 mescc-tools:i386; do
	download "$p" "$CACHE/i386"
done
# amd64 kexec-tools links Xen's control library; the seed kernels' amd64 kexec needs it and its own deps.
for p in kexec-tools libxenmisc4.17 libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 \
	libxengnttab1 libxenhypfs1 libxenstore4 libxentoollog1 libxentoolcore1 libyajl2; do
	download "$p" "$CACHE/amd64"
done
echo "$CACHE"
