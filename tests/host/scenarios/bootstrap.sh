# Issue "lbvm bootstrap" (2021 layout): a synthetic live-bootstrap tree (tests/bootstrap/make-2021-tree.sh)
# run end to end in lbvm's machine — sysa on Debian's 686 kernel, kexec into sysb, switch_root into sysc,
# "Bootstrapping completed." — and each injected failure ending with its own exit status and a report
# that names the right step; the same tree in --chroot mode as an ordinary user.
. /lbvm-tests/scenarios/lib.sh
B=/lbvm-tests/bootstrap
BS_TIMEOUT=600
GUARD=$((BS_TIMEOUT + 60))

# bootstrap_run OUT ARGS...: lbvm bootstrap with stdin from /dev/null; sets $rc and $elapsed
bootstrap_run() {
	out=$1
	shift
	# The runs before this one were judged already: their disks and trees only take the host's memory.
	rm -rf "$WORK"/*.run
	t0=$(now)
	timeout -s KILL "$GUARD" "$LBVM" bootstrap --distfiles "$B/distfiles" --offline --memory 1G --disk-size 256M \
		--kernel "$K32" --run-dir "$out.run" --timeout $BS_TIMEOUT "$@" </dev/null >"$out.log" 2>"$out.err"
	rc=$?
	elapsed=$(echo "$(now) $t0" | awk '{ printf "%.2f", $1 - $2 }')
	echo "LBVM-TEST: INFO $current: exit $rc after $elapsed s"
}

showb() {
	echo "---- $1.err (tail)"; tail -n 30 "$1.err"
	echo "---- console.log (tail)"; tail -n 25 "$1.run/console.log" 2>/dev/null; echo "----"
}

# json_has RUN TEXT: run.json contains TEXT
json_has() { grep -q -- "$2" "$1.run/run.json"; }

begin bootstrap-2021-complete
bootstrap_run "$WORK/bs-ok" --tree "$B/tree-ok"
marker=$("$LBVM" disk cat "$WORK/bs-ok.run/sysc-disk.img" /usr/share/xz/marker 2>/dev/null)
sed -n 's/^lbvm: stage /LBVM-TEST: INFO bootstrap-2021-complete: stage /p; s/^lbvm: \[/LBVM-TEST: INFO bootstrap-2021-complete: [/p' "$WORK/bs-ok.err"
if [ "$rc" != 0 ]; then
	fail "exit $rc"; showb "$WORK/bs-ok"
elif [ "$marker" != "xz 5.0.5 stand-in, built in sysc" ]; then
	fail "sysc's result is not on the disk ('$marker')"; showb "$WORK/bs-ok"
elif ! grep -q '\[11/11\] sysc: xz-5.0.5' "$WORK/bs-ok.err" || ! grep -q '\[9/11\] sysb: sysb' "$WORK/bs-ok.err"; then
	fail "progress lacks steps"; showb "$WORK/bs-ok"
elif ! json_has "$WORK/bs-ok" '"outcome": "completed"' || ! json_has "$WORK/bs-ok" '"steps_done": 11'; then
	fail "run.json does not record the completed run"; cat "$WORK/bs-ok.run/run.json"
elif ! grep -q 'tests="11" failures="0" skipped="0"' "$WORK/bs-ok.run/junit.xml"; then
	fail "junit.xml is not 11 passing cases"; cat "$WORK/bs-ok.run/junit.xml"
elif ! grep -q "Bootstrapping completed." "$WORK/bs-ok.run/console.log" ||
	! grep -q "step 11/11 sysc: xz-5.0.5" "$WORK/bs-ok.run/console.log"; then
	fail "console.log lacks the run"; showb "$WORK/bs-ok"
else
	pass
fi
# The per-step timeline, for the record.
sed -n 's/.*"name": "\([^"]*\)".*"outcome": "\([^"]*\)", "start": \([0-9.]*\), "duration": \([0-9.]*\).*/LBVM-TEST: INFO bootstrap-timeline: \1 \2 start \3 s took \4 s/p' "$WORK/bs-ok.run/run.json"

# failure NAME VARIANT WANT-RC STEP EVIDENCE [ARGS]: an injected failure ends with WANT-RC and a report naming STEP
failure() {
	name=$1 variant=$2 want=$3 step=$4 evidence=$5
	shift 5
	begin "$name"
	bootstrap_run "$WORK/$name" --tree "$B/tree-$variant" "$@"
	sed -n "s/^\(step: .*\)/LBVM-TEST: INFO $name: \1/p; s/^\(outcome: .*\)/LBVM-TEST: INFO $name: \1/p" "$WORK/$name.err"
	if [ "$rc" != "$want" ]; then
		fail "exit $rc, expected $want"; showb "$WORK/$name"
	elif ! grep -q "^step: $step " "$WORK/$name.err" || ! grep -q "^step: $step " "$WORK/$name.run/report.txt"; then
		fail "the report does not name step $step"; showb "$WORK/$name"
	elif [ -n "$evidence" ] && ! grep -q -- "$evidence" "$WORK/$name.run/report.txt"; then
		fail "the report lacks '$evidence'"; showb "$WORK/$name"
	elif ! grep -q '<failure' "$WORK/$name.run/junit.xml"; then
		fail "junit.xml has no failing case"; cat "$WORK/$name.run/junit.xml"
	else
		pass
	fi
}
failure bootstrap-kaem-checksum kaem-checksum 8 tcc-0.9.26 ": FAILED"
failure bootstrap-bash-step-fails bash-fail 8 flex-2.5.11 "ABORTING HARD"
failure bootstrap-kernel-panic panic 3 flex-2.5.11 ""
failure bootstrap-stall hang 9 flex-2.5.11 "" --stall-timeout 90
# sysc's run2.sh traps EXIT into an interactive shell: the idle probe sees the guest waiting
failure bootstrap-sysc-drops-to-shell sysc-fail 8 xz-5.0.5 "xz: compiling fails on purpose" --idle-timeout 30

begin bootstrap-text-is-not-an-end
bootstrap_run "$WORK/bs-fake" --tree "$B/tree-fake-text"
if [ "$rc" != 0 ]; then
	fail "exit $rc: console text ended the run"; showb "$WORK/bs-fake"
elif ! grep -q "Kernel panic - not syncing: this is only text" "$WORK/bs-fake.run/console.log"; then
	fail "the fake lines were not printed"; showb "$WORK/bs-fake"
else
	pass
fi

begin bootstrap-broken-tree
bootstrap_run "$WORK/bs-broken" --tree "$B/tree-broken"
if [ "$rc" = 2 ] && grep -q "sysa/flex-2.5.11 is not" "$WORK/bs-broken.err" && [ ! -e "$WORK/bs-broken.run/console.log" ]; then
	pass
else
	fail "exit $rc (expected 2 before booting)"; cat "$WORK/bs-broken.err"
fi

begin bootstrap-missing-distfile
mkdir -p "$WORK/empty-distfiles"
rm -rf "$WORK/bs-missing.run"
timeout -s KILL 120 "$LBVM" bootstrap --tree "$B/tree-ok" --distfiles "$WORK/empty-distfiles" --offline \
	--kernel "$K32" --run-dir "$WORK/bs-missing.run" </dev/null >"$WORK/bs-missing.log" 2>"$WORK/bs-missing.err"
rc=$?
if [ "$rc" = 7 ] && grep -q "missing distfile mes.tar.gz" "$WORK/bs-missing.err" && [ ! -e "$WORK/bs-missing.run" ]; then
	pass
else
	fail "exit $rc (expected 7, nothing booted)"; cat "$WORK/bs-missing.err"
fi

# A reader that stops reading stdout must not disable --timeout or SIGTERM (the console goes to stdout
# with --interactive). lbvm runs in the background of a subshell whose stdout is a pipe nobody reads.
# blocked_run NAME [ARGS]: start it; $pidfile and $rcfile name where its pid and exit status appear
blocked_run() {
	name=$1
	shift
	rm -rf "$WORK/$name.run" "$WORK/$name.pid" "$WORK/$name.rc"
	pidfile=$WORK/$name.pid rcfile=$WORK/$name.rc
	rm -rf "$WORK"/*.run
	( "$LBVM" bootstrap --distfiles "$B/distfiles" --offline --memory 1G --disk-size 256M --kernel "$K32" \
		--run-dir "$WORK/$name.run" --tree "$B/tree-hang" --interactive "$@" </dev/null 2>"$WORK/$name.err" &
	  echo $! >"$pidfile"; wait $!; echo $? >"$rcfile" ) | sleep 100000 &
	pipeline=$!
}
# wait_for FILE PATTERN SECONDS: until FILE holds PATTERN (or exists, for ""); 0 when it did
wait_for() {
	i=0
	while [ $i -lt "$3" ]; do
		if [ -z "$2" ]; then [ -s "$1" ] && return 0; else grep -q "$2" "$1" 2>/dev/null && return 0; fi
		sleep 1
		i=$((i + 1))
	done
	return 1
}
end_blocked() {
	[ -s "$pidfile" ] && kill -KILL "$(cat "$pidfile")" 2>/dev/null
	kill $pipeline 2>/dev/null
	for p in /proc/[0-9]*; do
		[ "$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)" = "sleep 100000 " ] && kill "${p#/proc/}" 2>/dev/null
	done
}

begin bootstrap-stdout-not-read-timeout
blocked_run bs-pipe --timeout 45
# the run's clock starts when the machine does (after the images are assembled)
wait_for "$WORK/bs-pipe.err" "\[1/11\]" 300
t0=$(now)
wait_for "$rcfile" "" 200
took=$(echo "$(now) $t0" | awk '{ printf "%.0f", $1 - $2 }')
rc=$(cat "$rcfile" 2>/dev/null)
end_blocked
if [ "$rc" = 4 ] && [ "$took" -lt 70 ] && grep -q "timed out" "$WORK/bs-pipe.err"; then
	echo "LBVM-TEST: INFO bootstrap-stdout-not-read-timeout: exit 4, $took s after the machine started (--timeout 45)"
	pass
else
	fail "exit '$rc', $took s after the machine started (expected 4 soon after 45 s)"; tail -n 20 "$WORK/bs-pipe.err"
fi

begin bootstrap-stdout-not-read-sigterm
blocked_run bs-term
wait_for "$WORK/bs-term.err" "sysa: flex-2.5.11" 300
sleep 3
kill -TERM "$(cat "$pidfile")"
wait_for "$rcfile" "" 60
rc=$(cat "$rcfile" 2>/dev/null)
end_blocked
if [ "$rc" = 6 ] && grep -q "flex-2.5.11: beginning build" "$WORK/bs-term.run/console.log" &&
	grep -q '"outcome": "stopped by the user"' "$WORK/bs-term.run/run.json"; then
	pass
else
	fail "exit '$rc' after SIGTERM (expected 6, log and record kept)"; tail -n 20 "$WORK/bs-term.err"
fi

# chroot mode, as an ordinary user: user namespaces, no VM, no root.
begin bootstrap-chroot
chmod 0755 "$WORK"
rm -rf "$WORK/bs-chroot.run"
mkdir -p "$WORK/chroot-distfiles" && cp "$B"/distfiles/* "$WORK/chroot-distfiles/" && chmod -R a+rwX "$WORK/chroot-distfiles"
mkdir -p "$WORK/chroot-home" && chmod 0777 "$WORK/chroot-home"
t0=$(now)
(cd "$WORK/chroot-home" && timeout -s KILL "$GUARD" lbvm-runas 65534 65534 "$LBVM" bootstrap --chroot --tree "$B/tree-ok" \
	--distfiles "$WORK/chroot-distfiles" --offline --run-dir "$WORK/chroot-home/run" --timeout $BS_TIMEOUT \
	</dev/null >"$WORK/bs-chroot.log" 2>"$WORK/bs-chroot.err")
rc=$?
echo "LBVM-TEST: INFO bootstrap-chroot: exit $rc after $(echo "$(now) $t0" | awk '{ printf "%.1f", $1 - $2 }') s"
if [ "$rc" = 0 ] && [ -f "$WORK/chroot-home/run/sysc/usr/share/xz/marker" ] &&
	grep -q '"outcome": "completed"' "$WORK/chroot-home/run/run.json"; then
	pass
else
	fail "exit $rc"; tail -n 30 "$WORK/bs-chroot.err"; tail -n 20 "$WORK/chroot-home/run/console.log" 2>/dev/null
fi
