#!/bin/sh
# lbvm fetch against a real HTTP server on 127.0.0.1 that this script starts (tests/cli/httpd.py).
# No test touches any other address. Every lbvm run is bounded by `timeout`, the server by --lifetime.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${LBVM:?set LBVM to the lbvm binary}"
RUN_LIMIT=60         # seconds any single lbvm run may take before the test counts it as hung
SERVER_LIFETIME=300  # the server stops by itself after this long, whatever happens here
INCOMPLETE=7         # lbvm fetch: some files missing or bad

work=$(mktemp -d)
srv_pid=
cleanup() {
	if [ -n "$srv_pid" ]; then
		kill "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
	fi
	chmod -R u+w "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS fetch_$1"; }
fail() { echo "FAIL fetch_$1: $2"; }

if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP fetch: python3 is missing, so no loopback HTTP server (install the packages in tests/deps/)"
	echo END
	exit 0
fi

# Deterministic test data: pseudo-random bytes from a fixed seed.
srv=$work/srv
mkdir -p "$srv"
python3 - "$srv" <<'EOF'
import random, sys, os
root = sys.argv[1]
r = random.Random(20210901)
def put(name, size):
    with open(os.path.join(root, name), "wb") as f:
        f.write(bytes(r.getrandbits(8) for _ in range(size)))
put("a.bin", 300 * 1024 + 17)
for n in ("b.bin", "c.bin", "d.bin"):
    put(n, 512 * 1024 + 3)
for i in range(50):
    put("many-%02d.bin" % i, 32 * 1024 + i)
EOF
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { wc -c <"$1" | tr -d ' '; }

python3 "$here/httpd.py" --root "$srv" --portfile "$work/port" --log "$work/log" \
	--lifetime "$SERVER_LIFETIME" &
srv_pid=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -s "$work/port" ]; then
	echo "FAIL fetch: the loopback HTTP server did not start"
	echo END
	exit 0
fi
base="http://127.0.0.1:$(cat "$work/port")"

# run NAME ARGS...: lbvm fetch with a time limit; stderr in $work/NAME.err, status in $rc.
run() {
	name=$1
	shift
	timeout "$RUN_LIMIT" "$LBVM" fetch "$@" 2>"$work/$name.err" </dev/null
	rc=$?
}
# requests NAME: how many requests the server saw whose line contains NAME
requests() { grep -c -- "$1" "$work/log" 2>/dev/null || true; }
# entry NAME URL [extra]: one line of lbvm's own manifest format for a file of the server
entry() { echo "$1 sha256=$(sha "$srv/$1") url=$2 ${3:-}"; }

# --- success, then the cache is used without touching the network
m=$work/ok.manifest
entry a.bin "$base/files/a.bin" "size=$(size "$srv/a.bin") package=test" >"$m"
run ok1 --manifest "$m" --cache "$work/c1"
if [ $rc -ne 0 ]; then
	fail success "exit $rc: $(tail -n 3 "$work/ok1.err")"
elif ! cmp -s "$srv/a.bin" "$work/c1/a.bin"; then
	fail success "cached a.bin differs from the served file"
elif [ -n "$(ls -A "$work/c1/.partial")" ]; then
	fail success "leftovers in .partial: $(ls -A "$work/c1/.partial")"
elif ! grep -q "1 downloaded" "$work/ok1.err"; then
	fail success "no summary line: $(tail -n 1 "$work/ok1.err")"
else
	pass success
fi
before=$(requests a.bin)
run ok2 --manifest "$m" --cache "$work/c1"
if [ $rc -eq 0 ] && [ "$(requests a.bin)" = "$before" ] && grep -q "1 already cached" "$work/ok2.err"; then
	pass cache_reused
else
	fail cache_reused "exit $rc, requests $before -> $(requests a.bin): $(tail -n 1 "$work/ok2.err")"
fi

# --- live-bootstrap's own `sources` lines
lb=$work/sources
{
	echo "f $base/files/a.bin $(sha "$srv/a.bin")"
	echo "f $base/files/b.bin $(sha "$srv/b.bin") renamed-b.tar"
	echo "g https://git.invalid/x.git~v1 $base/files/c.bin $(sha "$srv/c.bin") c-v1.tar"
} >"$lb"
run lb --manifest "$lb" --cache "$work/c-lb"
if [ $rc -eq 0 ] && cmp -s "$srv/b.bin" "$work/c-lb/renamed-b.tar" && cmp -s "$srv/c.bin" "$work/c-lb/c-v1.tar" &&
	cmp -s "$srv/a.bin" "$work/c-lb/a.bin"; then
	pass live_bootstrap_sources_file
else
	fail live_bootstrap_sources_file "exit $rc: $(tail -n 3 "$work/lb.err")"
fi

# a git-only `g` line (URL "_") can come from --mirror only
echo "g https://git.invalid/x.git~v1 _ $(sha "$srv/a.bin") a.bin" >"$work/gonly"
run gonly1 --manifest "$work/gonly" --cache "$work/c-gonly"
r1=$rc
run gonly2 --manifest "$work/gonly" --cache "$work/c-gonly" --mirror "$base/files"
if [ $r1 -eq $INCOMPLETE ] && grep -q "a.bin: no location to fetch it from (give --mirror)" "$work/gonly1.err" &&
	[ $rc -eq 0 ] && cmp -s "$srv/a.bin" "$work/c-gonly/a.bin"; then
	pass git_only_entry_from_mirror
else
	fail git_only_entry_from_mirror "exits $r1/$rc: $(cat "$work/gonly1.err" "$work/gonly2.err")"
fi

# --- 404 from the primary location, then the manifest's mirror
m=$work/mirror.manifest
entry a.bin "$base/missing/a.bin" "mirror=$base/files/a.bin" >"$m"
: >"$work/log"
run mirror --manifest "$m" --cache "$work/c-mirror"
first=$(grep -n "GET /missing/a.bin" "$work/log" | head -n 1 | cut -d: -f1)
second=$(grep -n "GET /files/a.bin" "$work/log" | head -n 1 | cut -d: -f1)
if [ $rc -eq 0 ] && cmp -s "$srv/a.bin" "$work/c-mirror/a.bin" && [ -n "$first" ] && [ -n "$second" ] &&
	[ "$first" -lt "$second" ] && grep -q "404" "$work/mirror.err"; then
	pass 404_then_mirror
else
	fail 404_then_mirror "exit $rc, order '$first' '$second': $(cat "$work/mirror.err")"
fi
# --mirror is tried before the manifest's own locations
: >"$work/log"
run mirror_opt --manifest "$m" --cache "$work/c-mirror2" --mirror "$base/files/"
if [ $rc -eq 0 ] && [ "$(requests /missing/)" = 0 ] && cmp -s "$srv/a.bin" "$work/c-mirror2/a.bin"; then
	pass mirror_option_first
else
	fail mirror_option_first "exit $rc, /missing/ requests: $(requests /missing/)"
fi
# every location 404: missing, named in one line
m=$work/gone.manifest
entry a.bin "$base/missing/a.bin" "mirror=$base/missing/again" >"$m"
run gone --manifest "$m" --cache "$work/c-gone"
if [ $rc -eq $INCOMPLETE ] && [ ! -e "$work/c-gone/a.bin" ] && grep -q "a.bin: all 2 locations failed" "$work/gone.err"; then
	pass all_locations_404
else
	fail all_locations_404 "exit $rc: $(cat "$work/gone.err")"
fi

# --- wrong hash: named with both hashes and the URL; the bytes are moved aside, never cached
m=$work/badhash.manifest
wrong=0000000000000000000000000000000000000000000000000000000000000000
echo "a.bin sha256=$wrong url=$base/files/a.bin" >"$m"
run badhash --manifest "$m" --cache "$work/c-bad"
if [ $rc -eq $INCOMPLETE ] && [ ! -e "$work/c-bad/a.bin" ] &&
	grep -q "a.bin: SHA-256 mismatch from $base/files/a.bin: expected $wrong, got $(sha "$srv/a.bin")" "$work/badhash.err" &&
	cmp -s "$srv/a.bin" "$work/c-bad/.rejected/a.bin.1" && [ -z "$(ls -A "$work/c-bad/.partial")" ]; then
	pass wrong_hash
else
	fail wrong_hash "exit $rc: $(cat "$work/badhash.err"); cache: $(ls -A "$work/c-bad" "$work/c-bad/.rejected")"
fi

# --- size= smaller than what the server sends: refused while downloading
m=$work/size.manifest
entry a.bin "$base/files/a.bin" "size=1000" >"$m"
run size --manifest "$m" --cache "$work/c-size"
if [ $rc -eq $INCOMPLETE ] && [ ! -e "$work/c-size/a.bin" ] && grep -q "more than the 1000 bytes" "$work/size.err"; then
	pass size_exceeded
else
	fail size_exceeded "exit $rc: $(cat "$work/size.err")"
fi

# --- a transfer cut off half-way, resumed with a Range request in the same run
half=$(( $(size "$srv/b.bin") / 2 ))
m=$work/cut.manifest
entry b.bin "$base/cut/b.bin" >"$m"
: >"$work/log"
run cut --manifest "$m" --cache "$work/c-cut" --retry-delay 100
if [ $rc -eq 0 ] && cmp -s "$srv/b.bin" "$work/c-cut/b.bin" && grep -q "GET /cut/b.bin -" "$work/log" &&
	grep -q "GET /cut/b.bin bytes=$half-" "$work/log" && grep -q "resuming at byte $half" "$work/cut.err"; then
	pass cut_off_then_resumed
else
	fail cut_off_then_resumed "exit $rc: $(cat "$work/cut.err"); log: $(cat "$work/log")"
fi
# ... and resumed by a later run: the first run gives up (no retries), keeping the partial file
m=$work/cut2.manifest
entry c.bin "$base/cut/c.bin" >"$m"
run cut2a --manifest "$m" --cache "$work/c-cut2" --retries 0
partial=$(size "$work/c-cut2/.partial/c.bin" 2>/dev/null)
run cut2b --manifest "$m" --cache "$work/c-cut2" --retries 0
if [ "$partial" = "$half" ] && [ $rc -eq 0 ] && cmp -s "$srv/c.bin" "$work/c-cut2/c.bin" &&
	grep -q "GET /cut/c.bin bytes=$half-" "$work/log" && [ ! -e "$work/c-cut2/.partial/c.bin" ]; then
	pass resumed_by_next_run
else
	fail resumed_by_next_run "partial '$partial' (want $half), exit $rc: $(cat "$work/cut2a.err" "$work/cut2b.err")"
fi
# a server that ignores Range: the partial file is discarded and the download starts over
mkdir -p "$work/c-norange/.partial"
head -c 1000 /dev/zero >"$work/c-norange/.partial/d.bin"
m=$work/norange.manifest
entry d.bin "$base/norange/d.bin" >"$m"
run norange --manifest "$m" --cache "$work/c-norange"
if [ $rc -eq 0 ] && cmp -s "$srv/d.bin" "$work/c-norange/d.bin"; then
	pass server_without_ranges
else
	fail server_without_ranges "exit $rc: $(cat "$work/norange.err")"
fi

# --- redirects (301 to an absolute URL, then 302 to a relative one)
m=$work/redirect.manifest
entry a.bin "$base/redirect2/a.bin" >"$m"
run redirect --manifest "$m" --cache "$work/c-redirect"
if [ $rc -eq 0 ] && cmp -s "$srv/a.bin" "$work/c-redirect/a.bin"; then
	pass redirect
else
	fail redirect "exit $rc: $(cat "$work/redirect.err")"
fi

# --- 503 once, then the retry succeeds
m=$work/flaky.manifest
entry a.bin "$base/flaky/a.bin" >"$m"
run flaky --manifest "$m" --cache "$work/c-flaky" --retry-delay 100
if [ $rc -eq 0 ] && cmp -s "$srv/a.bin" "$work/c-flaky/a.bin" && grep -q "HTTP status 503; again in 0.1 s" "$work/flaky.err"; then
	pass retry_after_503
else
	fail retry_after_503 "exit $rc: $(cat "$work/flaky.err")"
fi

# --- a server that stalls: the stall timeout fires, then the mirror is used
m=$work/stall.manifest
entry b.bin "$base/stall/b.bin" "mirror=$base/files/b.bin" >"$m"
t0=$(date +%s)
run stall --manifest "$m" --cache "$work/c-stall" --timeout 2 --retries 0
t1=$(date +%s)
if [ $rc -eq 0 ] && cmp -s "$srv/b.bin" "$work/c-stall/b.bin" && grep -q "nothing received for 2 s (stalled)" "$work/stall.err" &&
	[ $((t1 - t0)) -lt 20 ]; then
	pass stalled_server
else
	fail stalled_server "exit $rc after $((t1 - t0)) s: $(cat "$work/stall.err")"
fi

# --- a server that trickles a byte now and then: too slow, abandoned, then the mirror is used
m=$work/trickle.manifest
entry b.bin "$base/trickle/b.bin" "mirror=$base/files/b.bin" >"$m"
t0=$(date +%s)
run trickle --manifest "$m" --cache "$work/c-trickle" --timeout 2 --retries 0
t1=$(date +%s)
if [ $rc -eq 0 ] && cmp -s "$srv/b.bin" "$work/c-trickle/b.bin" &&
	grep -q "less than 1024 bytes a second for 2 s (too slow)" "$work/trickle.err" && [ $((t1 - t0)) -lt 20 ]; then
	pass trickling_server
else
	fail trickling_server "exit $rc after $((t1 - t0)) s: $(cat "$work/trickle.err")"
fi

# --- fifty files at once, several transfers in flight together
m=$work/many.manifest
: >"$m"
for f in "$srv"/many-*.bin; do
	entry "$(basename "$f")" "$base/slow/$(basename "$f")" >>"$m"
done
rm -f "$work/log.peak"
run many --manifest "$m" --cache "$work/c-many" --jobs 8
ok=0
for f in "$srv"/many-*.bin; do
	cmp -s "$f" "$work/c-many/$(basename "$f")" && ok=$((ok + 1))
done
peak=$(cat "$work/log.peak" 2>/dev/null || echo 0)
# The server counts a request until its handler returns, a moment after the client has its last byte
# and may already have started the next: allow that overlap, but not an unbounded number of transfers.
if [ $rc -eq 0 ] && [ $ok -eq 50 ] && [ "$peak" -gt 1 ] && [ "$peak" -le 16 ] && grep -q "50 files: 0 already cached, 50 downloaded" "$work/many.err"; then
	pass fifty_files_at_once
else
	fail fifty_files_at_once "exit $rc, $ok/50 verified, peak concurrency $peak: $(tail -n 2 "$work/many.err")"
fi

# --- offline: verifies, lists what is missing or wrong, changes nothing
m=$work/offline.manifest
{ entry a.bin "$base/files/a.bin"; entry b.bin "$base/files/b.bin"; } >"$m"
: >"$work/log"
run offline1 --manifest "$work/ok.manifest" --cache "$work/c1" --offline
r1=$rc
printf 'X' | dd of="$work/c1/a.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
run offline2 --manifest "$m" --cache "$work/c1" --offline
if [ $r1 -eq 0 ] && [ $rc -eq $INCOMPLETE ] && grep -q "missing b.bin" "$work/offline2.err" &&
	grep -q "a.bin: SHA-256 mismatch in the cache" "$work/offline2.err" && [ -e "$work/c1/a.bin" ] &&
	[ ! -s "$work/log" ] && grep -q "2 files: 0 verified, 1 missing, 1 bad (offline)" "$work/offline2.err"; then
	pass offline
else
	fail offline "exits $r1/$rc, server log '$(cat "$work/log")': $(cat "$work/offline2.err")"
fi
# online, the damaged cached copy is moved aside and fetched again
run repair --manifest "$work/ok.manifest" --cache "$work/c1"
if [ $rc -eq 0 ] && cmp -s "$srv/a.bin" "$work/c1/a.bin" && [ -e "$work/c1/.rejected/a.bin.1" ]; then
	pass damaged_cache_repaired
else
	fail damaged_cache_repaired "exit $rc: $(cat "$work/repair.err")"
fi

# --- malformed manifest line: exit 2 naming file and line; nothing created
m=$work/malformed.manifest
{ entry a.bin "$base/files/a.bin"; echo "# comment"; echo "b.bin sha256=1234 url=$base/files/b.bin"; } >"$m"
run malformed --manifest "$m" --cache "$work/c-malformed"
if [ $rc -eq 2 ] && [ "$(wc -l <"$work/malformed.err")" -eq 1 ] &&
	grep -q "^lbvm: $m:3: '1234' is not a SHA-256" "$work/malformed.err" && [ ! -e "$work/c-malformed" ]; then
	pass malformed_manifest
else
	fail malformed_manifest "exit $rc: $(cat "$work/malformed.err")"
fi
run nomanifest --manifest "$work/does-not-exist" --cache "$work/c-x"
if [ $rc -eq 2 ] && grep -q "does-not-exist: No such file" "$work/nomanifest.err"; then
	pass missing_manifest
else
	fail missing_manifest "exit $rc: $(cat "$work/nomanifest.err")"
fi

# --- a cache that cannot be written. A directory under a regular file fails with ENOTDIR even for
# root, who ignores permission bits.
: >"$work/plainfile"
run nocache --manifest "$work/ok.manifest" --cache "$work/plainfile/cache"
if [ $rc -eq 2 ] && [ "$(wc -l <"$work/nocache.err")" -eq 1 ] &&
	grep -q "cache directory '$work/plainfile/cache' is not usable: Not a directory" "$work/nocache.err"; then
	pass cache_not_writable
else
	fail cache_not_writable "exit $rc: $(cat "$work/nocache.err")"
fi
if [ "$(id -u)" -ne 0 ]; then
	mkdir -p "$work/ro"
	chmod 555 "$work/ro"
	run rocache --manifest "$work/ok.manifest" --cache "$work/ro"
	if [ $rc -eq 2 ] && grep -q "Permission denied" "$work/rocache.err"; then
		pass cache_read_only_dir
	else
		fail cache_read_only_dir "exit $rc: $(cat "$work/rocache.err")"
	fi
else
	echo "SKIP fetch_cache_read_only_dir: running as root, who may write into a mode 555 directory (the ENOTDIR case above covers root)"
fi

# --- two runs sharing a cache: the second does not touch the file the first is downloading
m=$work/lock.manifest
entry b.bin "$base/slow/b.bin" >"$m"
timeout "$RUN_LIMIT" "$LBVM" fetch --manifest "$m" --cache "$work/c-lock" 2>"$work/lock1.err" </dev/null &
first_pid=$!
i=0
while [ ! -s "$work/c-lock/.partial/b.bin" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
run lock2 --manifest "$m" --cache "$work/c-lock"
wait "$first_pid"
rc1=$?
if [ $rc -eq $INCOMPLETE ] && grep -q "is locked: another lbvm is downloading it" "$work/lock2.err" && [ $rc1 -eq 0 ] &&
	cmp -s "$srv/b.bin" "$work/c-lock/b.bin"; then
	pass concurrent_runs_share_cache
else
	fail concurrent_runs_share_cache "exits $rc1/$rc: $(cat "$work/lock1.err" "$work/lock2.err")"
fi

# --- the shipped 2021-09 manifests load; offline on an empty cache every entry is listed as missing
src=$here/../../sources
run shipped --manifest "$src/live-bootstrap-2021-09-sysa.manifest" --manifest "$src/live-bootstrap-2021-09-sysc.manifest" \
	--cache "$work/c-empty" --offline --quiet
if [ $rc -eq $INCOMPLETE ] && grep -q "fetch: 98 files: 0 verified, 98 missing, 0 bad (offline)" "$work/shipped.err" &&
	grep -q "missing gcc-4.0.4.tar.bz2" "$work/shipped.err" && grep -q "missing zlib-1.2.11.tar.xz" "$work/shipped.err"; then
	pass shipped_manifests_offline
else
	fail shipped_manifests_offline "exit $rc: $(tail -n 2 "$work/shipped.err")"
fi

# --- bad usage
bad=0
for args in "--jobs 0" "--jobs x" "--mirror notaurl" "--timeout 0" "--retries -1" "--bogus" "extra-arg" "--manifest"; do
	# shellcheck disable=SC2086 # the words are meant to split
	run usage $args
	if [ $rc -ne 2 ] || [ "$(wc -l <"$work/usage.err")" -ne 1 ]; then
		fail bad_usage "'$args' gave exit $rc: $(cat "$work/usage.err")"
		bad=1
	fi
done
[ $bad -eq 0 ] && pass bad_usage

# --- progress display on a terminal (script(1) provides one)
if command -v script >/dev/null 2>&1; then
	m=$work/tty.manifest
	entry d.bin "$base/slow/d.bin" >"$m"
	timeout "$RUN_LIMIT" script -qec "$LBVM fetch --manifest $m --cache $work/c-tty" "$work/tty.out" >/dev/null 2>&1 </dev/null
	if grep -q "\[0/1\] .* of 512.0 KiB, .*/s, ETA " "$work/tty.out" && grep -q "1 downloaded" "$work/tty.out" &&
		! grep -q "get d.bin from" "$work/tty.out"; then
		pass progress_on_terminal
	else
		fail progress_on_terminal "no progress line in: $(tr '\r' '\n' <"$work/tty.out" | tail -n 5)"
	fi
else
	echo "SKIP fetch_progress_on_terminal: script(1) is not installed"
fi
echo END
