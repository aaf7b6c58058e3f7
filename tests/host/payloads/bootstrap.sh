# Payload of the bootstrap suite: synthetic live-bootstrap trees of the 2021 layout (tests/bootstrap/
# make-2021-tree.sh), one per failure it injects, sharing one folder of distfiles.
# Usage: bootstrap.sh FIXTURE-CACHE OUTER-ROOT OUT
set -eu
cache=$1 h=$2 out=$3
here=$(cd "$(dirname "$0")/../.." && pwd)
dest=$h/lbvm-tests/bootstrap
rm -rf "$dest"
mkdir -p "$dest"
for v in ok kaem-checksum bash-fail panic hang fake-text sysc-fail; do
	"$here/bootstrap/make-2021-tree.sh" "$cache" "$dest/tree-$v" "$dest/distfiles" "$v" >/dev/null
done
# A broken tree: run.sh builds a package whose folder is missing.
cp -a "$dest/tree-ok" "$dest/tree-broken"
rm -rf "$dest/tree-broken/sysa/flex-2.5.11"
