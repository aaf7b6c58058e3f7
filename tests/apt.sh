# Helpers for the steps that use Debian's package registry (sourced by tests/install-deps.sh,
# tests/host/fixtures.sh and .ci/run). The registry sometimes serves an index in the middle of a sync
# ("File has unexpected size ... Mirror sync in progress?"), which passes within minutes. So every apt-get
# call is retried a bounded number of times with a pause; a failed index refresh is accepted when every
# package the step needs is available anyway (the failing index was an unrelated one); and otherwise the
# step stops with one last line that says what failed and how to retry.
# The caller sets APT_WHO (the step's name, for messages), APT_HINT (how to retry) and APT_SUDO ("" or sudo).
# Environment: LBVM_APT_TRIES (tries per apt-get call, default 4), LBVM_APT_PAUSE (seconds between, default 30).

apt_tries=${LBVM_APT_TRIES:-4}
apt_pause=${LBVM_APT_PAUSE:-30}
APT_SUDO=${APT_SUDO-}

# apt_available PKG...: true when every PKG has an install candidate in the local index
apt_available() {
	for apt_p in "$@"; do
		apt_c=$(apt-cache policy "$apt_p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
		[ -n "$apt_c" ] && [ "$apt_c" != "(none)" ] || return 1
	done
}

# apt_run LOG [--user] ARGS...: apt-get ARGS as root (as the caller with --user), its output shown on
# stderr and kept in LOG; returns apt-get's status
apt_run() {
	apt_log=$1
	apt_as=$APT_SUDO
	shift
	[ "$1" = --user ] && { apt_as=; shift; }
	: >"$apt_log"
	# The status must come from apt-get, not from the pipeline that shows its output.
	{ $apt_as env DEBIAN_FRONTEND=noninteractive apt-get "$@" 2>&1; echo "$?" >"$apt_log.rc"; } |
		tee "$apt_log" >&2
	apt_rc=$(cat "$apt_log.rc" 2>/dev/null || echo 1)
	rm -f "$apt_log.rc"
	return "$apt_rc"
}

# apt_why LOG: apt's last error line, shortened, or the exit status when it printed none
apt_why() {
	apt_w=$(grep -E '^(E:|Err:|W: Failed)' "$1" | tail -n1 | cut -c1-240)
	echo "${apt_w:-exit status $apt_rc}"
}

# apt_update PKG...: refresh the index. Succeeds when apt-get update does, or when it failed but every PKG
# is available from the index as it now stands (an unrelated index failed); else retries, then fails.
apt_update() {
	apt_ulog=$(mktemp)
	apt_n=1
	while :; do
		if apt_run "$apt_ulog" update -q; then
			rm -f "$apt_ulog"
			return 0
		fi
		apt_err=$(apt_why "$apt_ulog")
		if [ $# -gt 0 ] && apt_available "$@"; then
			echo "$APT_WHO: apt-get update failed ($apt_err), but every package this step needs is in the index: going on" >&2
			rm -f "$apt_ulog"
			return 0
		fi
		[ "$apt_n" -ge "$apt_tries" ] && break
		echo "$APT_WHO: apt-get update failed (try $apt_n of $apt_tries: $apt_err); trying again in $apt_pause s" >&2
		sleep "$apt_pause"
		apt_n=$((apt_n + 1))
	done
	rm -f "$apt_ulog"
	echo "$APT_WHO: apt-get update failed $apt_tries times, last: $apt_err; the package registry may be mid-sync: $APT_HINT" >&2
	return 1
}

# apt_get [--user] ARGS...: apt-get ARGS (install, download, ...), tried again after a pause and an index refresh
# when it fails; the one last line on failure names the command and its last error.
apt_get() {
	apt_glog=$(mktemp)
	apt_gcmd=$*
	apt_gcmd=${apt_gcmd#--user }
	apt_m=1
	while :; do
		if apt_run "$apt_glog" "$@"; then
			rm -f "$apt_glog"
			return 0
		fi
		apt_gerr=$(apt_why "$apt_glog")
		[ "$apt_m" -ge "$apt_tries" ] && break
		echo "$APT_WHO: apt-get $apt_gcmd failed (try $apt_m of $apt_tries: $apt_gerr); trying again in $apt_pause s" >&2
		sleep "$apt_pause"
		# A package that moved on in the registry needs the new index; its own failure shows in the next try.
		apt_run "$apt_glog" update -q >/dev/null 2>&1 || true
		apt_m=$((apt_m + 1))
	done
	rm -f "$apt_glog"
	echo "$APT_WHO: apt-get $apt_gcmd failed $apt_tries times, last: $apt_gerr; $APT_HINT" >&2
	return 1
}
