#!/bin/sh
# The registry steps (tests/apt.sh, used by install-deps.sh, fixtures.sh and .ci/run) against stand-in
# apt-get, apt-cache, dpkg and dpkg-query that fail as the registry does mid-sync: bounded retries, going on
# when the needed index is there, and otherwise a non-zero exit whose last line says what failed and how to
# retry. (The real registry cannot be made to fail on demand; the real one is used by every other test.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Stand-ins. apt-get SUBCOMMAND exits with the next number in $STUB/SUBCOMMAND.plan (the last one repeats)
# and prints a mid-sync error when that is not 0; apt-cache policy offers the packages listed in $STUB/avail.
mkdir -p "$work/bin"
cat >"$work/bin/apt-get" <<'EOF'
#!/bin/sh
for a; do case "$a" in -*) ;; *) sub=$a; break ;; esac; done
echo "$*" >>"$STUB/calls"
plan=$STUB/$sub.plan
rc=$(head -n1 "$plan" 2>/dev/null || echo 0)
[ "$(wc -l <"$plan" 2>/dev/null || echo 0)" -gt 1 ] && sed -i 1d "$plan"
if [ "$rc" != 0 ]; then
	echo "Err:7 http://mirror.invalid/debian-security bookworm-security/main i386 Packages"
	echo "E: Failed to fetch http://mirror.invalid/debian-security/dists/bookworm-security/main/binary-i386/Packages.xz  File has unexpected size (1 != 2). Mirror sync in progress?"
fi
exit "$rc"
EOF
cat >"$work/bin/apt-cache" <<'EOF'
#!/bin/sh
[ "$1" = policy ] || exit 0
if grep -qx "$2" "$STUB/avail" 2>/dev/null; then echo "  Candidate: 1.0"; else echo "  Candidate: (none)"; fi
EOF
cat >"$work/bin/dpkg" <<'EOF'
#!/bin/sh
[ "$1" = --print-foreign-architectures ] && echo i386
exit 0
EOF
printf '#!/bin/sh\nexit 1\n' >"$work/bin/dpkg-query"
chmod +x "$work/bin/"*

# stub CASE UPDATE-PLAN OTHER-PLAN [AVAILABLE...]: a fresh stand-in state
stub() {
	STUB=$work/$1
	mkdir -p "$STUB"
	printf '%s\n' $2 >"$STUB/update.plan"
	for s in install download; do printf '%s\n' $3 >"$STUB/$s.plan"; done
	shift 3
	: >"$STUB/avail"
	for p in "$@"; do echo "$p" >>"$STUB/avail"; done
	: >"$STUB/calls"
}
# helper CASE COMMANDS: run COMMANDS with tests/apt.sh sourced and the stand-ins first in PATH; sets $rc
helper() {
	(
		PATH=$work/bin:$PATH STUB=$STUB LBVM_APT_TRIES=3 LBVM_APT_PAUSE=0 APT_SUDO= APT_WHO=step \
			APT_HINT="run it again later"
		export PATH STUB
		. "$root/tests/apt.sh"
		eval "$2"
	) >"$STUB/out" 2>&1
	rc=$?
}
calls() { grep -c "$1" "$STUB/calls"; }
# expect CASE WANT-RC WANT-CALLS-PATTERN WANT-CALLS LAST-LINE-TEXT
expect() {
	last=$(tail -n1 "$STUB/out")
	if [ "$rc" = "$2" ] && [ "$(calls "$3")" = "$4" ] && echo "$last" | grep -q -- "$5"; then
		echo "PASS apt_retry_$1"
	else
		echo "FAIL apt_retry_$1: exit $rc (want $2), $(calls "$3") '$3' calls (want $4), last line: $last"
	fi
}

stub update_recovers "100 100 0" 0
helper update_recovers "apt_update foo && echo updated"
expect update_recovers 0 update 3 "^updated$"

stub update_gives_up "100" 0
helper update_gives_up "apt_update foo"
expect update_gives_up 1 update 3 "^step: apt-get update failed 3 times, last: E: Failed to fetch .*Mirror sync in progress?; the package registry may be mid-sync: run it again later$"

# The failing index is an unrelated one: what the step needs is available, so it goes on at once.
stub unrelated_index "100" 0 foo bar
helper unrelated_index "apt_update foo bar && echo updated"
expect unrelated_index 0 update 1 "^updated$"
grep -q "every package this step needs is in the index: going on" "$STUB/out" ||
	echo "FAIL apt_retry_unrelated_index_says_so: $(cat "$STUB/out")"

# One needed package missing: that is not good enough.
stub needed_index_missing "100" 0 foo
helper needed_index_missing "apt_update foo bar"
expect needed_index_missing 1 update 3 "apt-get update failed 3 times"

stub install_recovers 0 "100 0"
helper install_recovers "apt_get install -y foo && echo installed"
expect install_recovers 0 install 2 "^installed$"

stub download_gives_up 0 "100"
helper download_gives_up "apt_get --user download foo"
expect download_gives_up 1 download 3 "^step: apt-get download foo failed 3 times, last: E: Failed to fetch .*; run it again later$"

# The fixture step as make runs it: it stops, prints nothing on stdout (no cache path for the tests), and
# its last line names the failure and the retry.
stub fixtures "100" 0
PATH=$work/bin:$PATH STUB=$STUB LBVM_APT_TRIES=2 LBVM_APT_PAUSE=0 LBVM_FIXTURES=$work/fixtures/cache \
	sh "$root/tests/host/fixtures.sh" >"$STUB/stdout" 2>"$STUB/out"
rc=$?
if [ -s "$STUB/stdout" ]; then
	echo "FAIL apt_retry_fixtures_stdout: printed '$(cat "$STUB/stdout")'"
fi
expect fixtures 1 update 2 "^fixtures: apt-get update failed 2 times, .*run make check (or tests/host/fixtures.sh) again in a few minutes$"

stub install_deps "100" 0
PATH=$work/bin:$PATH STUB=$STUB LBVM_APT_TRIES=2 LBVM_APT_PAUSE=0 sh "$root/tests/install-deps.sh" >"$STUB/out" 2>&1
rc=$?
expect install_deps 1 update 2 "^install-deps: apt-get update failed 2 times, .*run make check (or tests/install-deps.sh) again in a few minutes$"
echo END
