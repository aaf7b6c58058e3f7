#!/bin/sh
# `make run`: run live-bootstrap's 2021 chain (sysa -> sysb -> sysc) in lbvm, with progress on stderr.
#   LB_TREE=DIR     a live-bootstrap checkout with its submodules (default: clone commit acfe6cc7 with its
#                   submodules into lbvm's cache, once)
#   KERNEL=FILE     the seed kernel (default: Debian's 686 kernel, which has kexec, from the package
#                   registry; on a host without it, this host's own kernel package)
#   RUN_DIR=DIR     the run directory (default runs/<date-time>); LBVM_ARGS: more lbvm bootstrap options
# Needs /dev/kvm, git, and the network for the first clone and the distfiles.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
lbvm=${LBVM:-$root/build/lbvm}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/lbvm
commit=acfe6cc7713652581644f4cac6bfe41d5e37dffc
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
mkdir -p "$cache"

tree=${LB_TREE:-}
if [ -z "$tree" ]; then
	tree=$cache/live-bootstrap-acfe6cc7
	if [ ! -f "$tree/.lbvm-complete" ]; then
		echo "run: cloning live-bootstrap at ${commit%${commit#????????}} with its submodules into $tree" >&2
		rm -rf "$tree.part"
		git clone -q https://github.com/fosslinux/live-bootstrap "$tree.part"
		git -C "$tree.part" checkout -q "$commit"
		git -C "$tree.part" submodule update -q --init --recursive
		touch "$tree.part/.lbvm-complete"
		rm -rf "$tree"
		mv "$tree.part" "$tree"
	fi
fi

kernel=${KERNEL:-}
if [ -z "$kernel" ]; then
	kdir=$cache/seed-kernel
	kernel=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
fi
if [ -z "$kernel" ]; then
	mkdir -p "$kdir"
	if apt-cache show linux-image-686 >/dev/null 2>&1 || {
		dpkg --print-foreign-architectures | grep -qx i386 || $sudo dpkg --add-architecture i386
		$sudo apt-get update -q >&2 || true
		apt-cache show linux-image-686:i386 >/dev/null 2>&1; }; then
		pkg=$(apt-cache depends linux-image-686:i386 | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)/\1/p' | head -n1)
	else
		# No Debian 686 kernel here (Ubuntu has none): this host's own amd64 kernel runs i386 programs too.
		pkg=linux-image-$(uname -r)
	fi
	echo "run: seed kernel from the package $pkg" >&2
	(cd "$kdir" && apt-get download -q "$pkg" >&2 && dpkg -x ./*.deb . && rm -f ./*.deb)
	kernel=$(ls "$kdir"/boot/vmlinuz-* | head -n1)
fi

run_dir=${RUN_DIR:-$root/runs/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$(dirname "$run_dir")"
echo "run: lbvm bootstrap --tree $tree --kernel $kernel --run-dir $run_dir" >&2
# shellcheck disable=SC2086
exec "$lbvm" bootstrap --tree "$tree" --kernel "$kernel" --distfiles "$cache/distfiles" --run-dir "$run_dir" ${LBVM_ARGS:-}
