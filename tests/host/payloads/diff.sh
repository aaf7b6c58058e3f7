# Payload of the diff suite: two synthetic trees of the current layout (tests/bootstrap/
# make-current-tree.sh), one plain, one whose words-1.0 embeds its build time and a random number.
# Usage: diff.sh FIXTURE-CACHE OUTER-ROOT OUT
set -eu
cache=$1 h=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
dest=$h/lbvm-tests/diff
rm -rf "$dest"
mkdir -p "$dest"
LBVM_FIXTURES=$cache "$here/bootstrap/make-current-tree.sh" "$dest/tree" >/dev/null
LBVM_FIXTURES=$cache "$here/bootstrap/make-current-tree.sh" "$dest/tree-unrepro" --unreproducible words-1.0 >/dev/null
