#!/bin/sh
# Print the .ko files (relative to MODDIR) needed to load MODULE..., each after the modules it depends on,
# as `insmod` must take them. Dependencies come from each module's own modinfo.
# Usage: module-order.sh MODDIR MODULE...
set -eu
moddir=$1
shift
seen=" "
path_of() {
	local name alt
	name=$(echo "$1" | tr '_' '-')
	alt=$(echo "$1" | tr '-' '_')
	(cd "$moddir" && find . \( -name "$name.ko" -o -name "$alt.ko" -o -name "$name.ko.xz" -o -name "$alt.ko.xz" \) | head -n1 | sed 's|^\./||')
}
visit() {
	local p dep
	case "$seen" in *" $1 "*) return 0 ;; esac
	seen="$seen$1 "
	p=$(path_of "$1")
	[ -n "$p" ] || { echo "module-order: no module $1 in $moddir" >&2; exit 1; }
	for dep in $(modinfo -F depends "$moddir/$p" | tr ',' ' '); do
		visit "$dep"
	done
	echo "$p"
}
for m in "$@"; do visit "$m"; done
