#!/bin/sh
# Benchmark: `lbvm mkdisk --raw` against `mke2fs -t ext4 -d` on the same tree of ~10k files.
#   bench/mkdisk.sh LBVM [TREE] [RUNS]
# TREE defaults to ~/.cache/lbvm/bench/tree: an unpacked Debian linux-headers-*-common package (about
# 10k files, 76 MB), fetched with apt-get download and unpacked with dpkg -x on first use. Nothing of it
# enters git. Each tool builds a 512 MiB ext4 image RUNS times (default 3); the best wall time counts.
# Prints both times, both images' disk use, and the ratio lbvm / mke2fs (below 1: lbvm is faster).
set -eu
lbvm=${1:?usage: bench/mkdisk.sh LBVM [TREE] [RUNS]}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/lbvm/bench
tree=${2:-$cache/tree}
runs=${3:-3}
size=512M

if [ ! -d "$tree" ]; then
	[ -z "${2:-}" ] || { echo "bench: $tree is not a directory" >&2; exit 2; }
	mkdir -p "$cache"
	pkg=$(apt-cache search --names-only '^linux-headers-[0-9.]+-[0-9]+-common$' | sort -V | tail -1 | cut -d' ' -f1)
	[ -n "$pkg" ] || { echo "bench: no linux-headers-*-common package known to apt (apt-get update?)" >&2; exit 2; }
	echo "bench: fetching $pkg into $cache (once)"
	(cd "$cache" && apt-get download "$pkg" >/dev/null && dpkg -x "$pkg"_*.deb tree.tmp && mv tree.tmp tree)
fi
command -v mke2fs >/dev/null || { echo "bench: mke2fs not found (package e2fsprogs)" >&2; exit 2; }

work=$(mktemp -d /tmp/lbvm-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }

best() { # COMMAND... -> best wall seconds over $runs runs
	b=
	i=0
	while [ "$i" -lt "$runs" ]; do
		rm -f "$work/img"
		t0=$(now)
		"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
		t1=$(now)
		b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN { d = z - a; if (b == "" || d < b) b = d; printf "%.3f", b }')
		i=$((i + 1))
	done
	echo "$b"
}

files=$(find "$tree" | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
echo "tree: $tree ($files entries, $bytes bytes); image $size ext4; best of $runs runs"
export SOURCE_DATE_EPOCH=1700000000
t_lbvm=$(best "$lbvm" mkdisk "$tree" -o "$work/img" --size "$size" --raw)
use_lbvm=$(du -k "$work/img" | cut -f1)
t_mke2fs=$(best mke2fs -q -F -t ext4 -d "$tree" "$work/img" "$size")
use_mke2fs=$(du -k "$work/img" | cut -f1)
printf 'lbvm mkdisk:   %ss  (%s KiB on disk)\n' "$t_lbvm" "$use_lbvm"
printf 'mke2fs -d:     %ss  (%s KiB on disk)\n' "$t_mke2fs" "$use_mke2fs"
awk -v a="$t_lbvm" -v b="$t_mke2fs" 'BEGIN { printf "ratio lbvm/mke2fs: %.2f\n", a / b }'
