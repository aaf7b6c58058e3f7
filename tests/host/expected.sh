#!/bin/sh
# The scenarios a suite names, as tests/host/supervise.sh expects them to begin and pass: one name a line.
#   tests/host/expected.sh SCENARIO-DIR SUITE,...           the names of those suites, sorted
#   tests/host/expected.sh --check SCENARIO-DIR SUITE,...   also one "unknown: FILE:LINE: TEXT" line for
#                                                           each begin whose name cannot be told; exit 1 then
# A scenario starts at the start of a line, either with "begin NAME" (also "begin NAME; more") or with a
# call "HELPER NAME ..." of a helper that the suite or lib.sh defines as "HELPER() {" and whose body calls
# begin "PREFIX$name" (or "PREFIX$1", "PREFIX${name}"); that call names the scenario PREFIX NAME. Helpers
# are found in the scripts themselves, so a suite with a new helper needs no change here.
set -eu
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
dir=$1 suites=$2
for s in $(echo "$suites" | tr ',' ' '); do
	[ -f "$dir/$s.sh" ] || { echo "unknown: $dir/$s.sh: no such suite" >&2; exit 1; }
done
for s in $(echo "$suites" | tr ',' ' '); do
	f=$dir/$s.sh
	lib=$dir/lib.sh
	[ -f "$lib" ] || lib=/dev/null
	# Pass over lib.sh, then the suite: helpers from both, scenarios from the suite alone.
	awk -v check=$check -v suite="$f" '
		function word(s) { return s ~ /^[A-Za-z0-9_-]+$/ }
		FNR == 1 { fn = "" }
		/^[A-Za-z_][A-Za-z0-9_]*\(\) *\{/ {
			# a one-line function ("f() { ...; }") has no body lines of its own
			fn = $0; sub(/\(.*/, "", fn)
			if ($0 ~ /[;&][ \t]*\}[ \t]*$/) fn = ""
			next
		}
		fn != "" && /^\}/ { fn = ""; next }
		fn != "" && /^[ \t]*begin[ \t]/ {
			arg = $0; sub(/^[ \t]*begin[ \t]+/, "", arg); sub(/[; \t].*/, "", arg); gsub(/"/, "", arg)
			if (match(arg, /\$(\{name\}|name|1)$/)) { prefix[fn] = substr(arg, 1, RSTART - 1); has[fn] = 1 }
			else if (check) print "unknown: " FILENAME ":" FNR ": " $0
			next
		}
		FILENAME != suite { next }
		/^begin[ \t]/ {
			arg = $2; sub(/;.*/, "", arg)
			if (word(arg)) print arg
			else if (check) print "unknown: " FILENAME ":" FNR ": " $0
			next
		}
		fn == "" && ($1 in has) {
			arg = $2; gsub(/"/, "", arg)
			if (word(arg)) print prefix[$1] arg
			else if (check) print "unknown: " FILENAME ":" FNR ": " $0
		}
		fn == "" && /^[ \t]+begin[ \t]/ && check { print "unknown: " FILENAME ":" FNR ": " $0 }
	' "$lib" "$f"
done | sort -u | {
	unknown=0
	while IFS= read -r line; do
		case "$line" in
		unknown:*) echo "$line" >&2; unknown=1 ;;
		*) echo "$line" ;;
		esac
	done
	exit $unknown
}
