#!/bin/sh
# Write a small live-bootstrap tree of the current layout (seed/, seed/stage0-posix/, steps/ with a
# manifest) into DIR, for lbvm's tests: what its harness and its guest scripts do, on tiny packages.
#
#   make-current-tree.sh DIR [--no-fixtures] [--drop-checksum PKG] [--break-checksum PKG]
#                            [--unreproducible PKG]
#
# The tree (the static parts are in tests/bootstrap/current/):
#   seed/stage0-posix/   a stand-in for stage0-posix: Debian's kaem (mescc-tools:i386, dynamically linked,
#                        so /lib gets its loader and libc from libc6:i386) as bootstrap-seeds' kaem-optional-
#                        seed and /init, and busybox-static:i386 as the tools stage0-posix would build;
#                        kaem.run (what Debian's kaem runs as /init) and kaem.x86 hand over to x86/kaem.run,
#                        which checks x86.answers and runs seed's after.kaem, as the real one does.
#   seed/                after.kaem and seed.kaem as in live-bootstrap; the script generator is
#                        script-generator.awk (the manifest's rules, docs/steps.md).
#   steps/manifest       predicates, define:, kaem-era and bash-era builds, passN, jumps, an uninstall,
#                        the network step; steps/PKG/sources with the real SHA-256 of tarballs made here;
#                        kaem-era checksums; SHA256SUMS.pkgs with the hashes of the packages the guest
#                        will make (helpers.sh's pkg_tar is deterministic and computed here the same way).
#   distfiles/           the four source tarballs (hello, tools, words before the network; fetched after).
# --no-fixtures writes placeholders instead of Debian's binaries: the tree then has the right shape for
#   the plan and the target, but cannot run. Fixtures come from $LBVM_FIXTURES (tests/host/fixtures.sh).
# --drop-checksum PKG leaves PKG's package out of SHA256SUMS.pkgs ("PKG: no checksum stored!");
# --break-checksum PKG gives it a wrong hash (sha256sum's FAILED).
# --unreproducible PKG (a bash-era package: hello-1.0, words-1.0, fetched-1.0) makes its build put the
#   time it ran and a random number into the package (/usr/share/PKG/build-stamp), as a package that
#   embeds its build time does: two runs make two different packages, neither the one SHA256SUMS.pkgs
#   has, so the tree runs to its end only with --update-checksums (lbvm diff's tests).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
usage() {
	echo "usage: $0 DIR [--no-fixtures] [--drop-checksum PKG] [--break-checksum PKG] [--unreproducible PKG]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
dir=$1
shift
fixtures=yes drop="" break="" unrepro=""
while [ $# -gt 0 ]; do
	case "$1" in
	--no-fixtures) fixtures=no ;;
	--drop-checksum) [ $# -ge 2 ] || usage; drop=$2; shift ;;
	--break-checksum) [ $# -ge 2 ] || usage; break=$2; shift ;;
	--unreproducible) [ $# -ge 2 ] || usage; unrepro=$2; shift ;;
	*) usage ;;
	esac
	shift
done
[ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && { echo "$0: $dir is not empty" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export LC_ALL=C
umask 022

cp -R "$here/current/seed" "$here/current/steps" "$dir/"
if [ -n "$unrepro" ]; then
	ls "$dir/steps/$unrepro"/pass*.sh >/dev/null 2>&1 ||
		{ echo "$0: --unreproducible $unrepro: not a bash-era package of the tree" >&2; exit 2; }
	for script in "$dir/steps/$unrepro"/pass*.sh; do
		cat >>"$script" <<'EOF'
# make-current-tree.sh --unreproducible: the build records when it ran (busybox's date has no %N) and a
# random number.
src_postprocess() {
	mkdir -p "${DESTDIR}${PREFIX}/share/${pkg}"
	echo "built at $(date +%s) s, seed ${RANDOM}" >"${DESTDIR}${PREFIX}/share/${pkg}/build-stamp"
}
EOF
	done
fi
. "$dir/steps/helpers.sh" # pkg_tar

sha() { sha256sum "$1" | cut -d' ' -f1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- stage0-posix's stand-in ----
s0=$dir/seed/stage0-posix
mkdir -p "$s0/x86/bin" "$s0/bootstrap-seeds/POSIX/x86" "$s0/lib/i386-linux-gnu"
for sub in M2libc M2-Planet M2-Mesoplanet mescc-tools mescc-tools-extra; do
	mkdir -p "$s0/$sub"
	echo "A stand-in for stage0-posix's $sub submodule (lbvm's synthetic tree)." >"$s0/$sub/README"
done
if [ "$fixtures" = yes ]; then
	fx=${LBVM_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/lbvm/fixtures}/i386
	for f in usr/bin/kaem bin/busybox lib/ld-linux.so.2 lib/i386-linux-gnu/libc.so.6; do
		[ -f "$fx/$f" ] || { echo "$0: $fx/$f is missing (run tests/host/fixtures.sh)" >&2; exit 1; }
	done
	cp "$fx/usr/bin/kaem" "$s0/x86/bin/kaem"
	cp "$fx/bin/busybox" "$s0/x86/bin/busybox"
	cp "$fx/lib/ld-linux.so.2" "$s0/lib/ld-linux.so.2"
	cp "$fx/lib/i386-linux-gnu/libc.so.6" "$s0/lib/i386-linux-gnu/libc.so.6"
else
	for f in x86/bin/kaem x86/bin/busybox lib/ld-linux.so.2 lib/i386-linux-gnu/libc.so.6; do
		echo "placeholder for $f (make-current-tree.sh --no-fixtures)" >"$s0/$f"
	done
fi
chmod 755 "$s0/x86/bin/kaem" "$s0/x86/bin/busybox" "$s0/lib/ld-linux.so.2" "$s0/lib/i386-linux-gnu/libc.so.6"
cp "$s0/x86/bin/kaem" "$s0/bootstrap-seeds/POSIX/x86/kaem-optional-seed"
echo "Not a seed: the synthetic tree starts from Debian's kaem (kaem-optional-seed)." \
	>"$s0/bootstrap-seeds/POSIX/x86/hex0-seed"
cat >"$s0/kaem.run" <<'EOF'
# lbvm's stand-in for stage0-posix: the real one builds its tools from the hex0 seeds here; this one has
# Debian's kaem and busybox in x86/bin already. Debian's kaem runs kaem.run as /init; a real seed would
# run kaem.x86 (the same).
./x86/bin/kaem --verbose --strict --file ./x86/kaem.run
EOF
cp "$s0/kaem.run" "$s0/kaem.x86"
cat >"$s0/x86/kaem.run" <<'EOF'
# As stage0-posix's x86/kaem.run ends: check the tools against the answers, then seed's after.kaem.
ARCH=x86
ARCH_DIR=x86
./x86/bin/busybox sha256sum -c x86.answers
./x86/bin/kaem --verbose --strict --file ./after.kaem
EOF
(cd "$s0" && sha256sum ./x86/bin/kaem ./x86/bin/busybox >x86.answers)
# stage0-posix has an after.kaem of its own, which the seed's replaces in the target
echo 'echo "Replace me if you wish to do more"' >"$s0/after.kaem"
chmod 755 "$s0/kaem.run" "$s0/kaem.x86"

# ---- sources: tiny tarballs, with their real SHA-256 ----
mkdir -p "$dir/distfiles"
src=$work/src
mkdir -p "$src/hello/hello-1.0" "$src/tools/tools-1.0" "$src/words/words-1.0" "$src/fetched/fetched-1.0"
echo "hello from lbvm's synthetic live-bootstrap tree" >"$src/hello/hello-1.0/hello.txt"
echo "a tool the kernel bootstrap would build" >"$src/tools/tools-1.0/tools.txt"
printf 'zebra\napple\nmango\n' >"$src/words/words-1.0/words.in"
printf '#!/bin/sh\ncat /usr/share/words/words.txt\n' >"$src/words/words-1.0/words"
echo "fetched from a mirror after the network step" >"$src/fetched/fetched-1.0/fetched.txt"
for p in hello tools words fetched; do
	pkg_tar "$src/$p" | gzip -n -9 >"$dir/distfiles/$p-1.0.tar.gz"
done
url=http://lbvm.invalid/distfiles
echo "f $url/hello-1.0.tar.gz $(sha "$dir/distfiles/hello-1.0.tar.gz")" >"$dir/steps/hello-1.0/sources"
echo "f $url/tools-1.0.tar.gz $(sha "$dir/distfiles/tools-1.0.tar.gz")" >"$dir/steps/tools-1.0/sources"
echo "f http://lbvm.invalid/words/v1.tgz $(sha "$dir/distfiles/words-1.0.tar.gz") words-1.0.tar.gz" \
	>"$dir/steps/words-1.0/sources"
echo "f $url/fetched-1.0.tar.gz $(sha "$dir/distfiles/fetched-1.0.tar.gz")" >"$dir/steps/fetched-1.0/sources"

# ---- kaem-era checksums of what each pass installs ----
h=$(sha "$src/hello/hello-1.0/hello.txt")
echo "$h  /usr/share/hello/pass1.txt" >"$dir/steps/hello-1.0/pass1.checksums"
echo "$h  /usr/share/hello/pass2.txt" >"$dir/steps/hello-1.0/pass2.checksums"
echo "$(sha "$src/tools/tools-1.0/tools.txt")  /usr/share/tools.txt" >"$dir/steps/tools-1.0/pass1.checksums"
echo "$(sha "$dir/steps/bash-1.0/bash")  /usr/bin/bash" >"$dir/steps/bash-1.0/pass1.checksums"

# ---- the packages the bash era will make, made here the same way ----
d=$work/destdir
mkdir -p "$d/hello/usr/share/hello" "$d/words/usr/bin" "$d/words/usr/share/words" "$d/fetched/usr/share/fetched"
cp "$src/hello/hello-1.0/hello.txt" "$d/hello/usr/share/hello/pass3.txt"
sort "$src/words/words-1.0/words.in" >"$d/words/usr/share/words/words.txt"
cp "$src/words/words-1.0/words" "$d/words/usr/bin/words"
chmod 755 "$d/words/usr/bin/words"
cp "$src/fetched/fetched-1.0/fetched.txt" "$d/fetched/usr/share/fetched/fetched.txt"
: >"$dir/steps/SHA256SUMS.pkgs"
for p in hello words fetched; do
	pkg_tar "$d/$p" | bzip2 -9 >"$work/$p.tar.bz2"
	hash=$(sha "$work/$p.tar.bz2")
	[ "$break" = "$p-1.0" ] && hash=$(printf 'not the package' | sha256sum | cut -d' ' -f1)
	[ "$drop" = "$p-1.0" ] && continue
	echo "$hash  $p-1.0_0.tar.bz2" >>"$dir/steps/SHA256SUMS.pkgs"
done
echo "$dir"
