# How a run ends, in the ways no other suite covers: each stop signal, Ctrl-A x at a terminal, a triple
# fault, a reset through the i8042 with no reboot message, a panic line the CPU confirms, a console reader that
# stops reading, and stdin still fed while the guest powers off. The triple fault, the silent reset and the
# panic without its end line come from tiny test kernels (tests/host/testkernel/kernel.S) that do exactly
# that and nothing else; the rest run Debian's kernel with the guest initramfs.
. /lbvm-tests/scenarios/lib.sh
END_TIMEOUT=240
GUARD=$((END_TIMEOUT + 60))
TK=/lbvm-tests/testkernel
STOP_LIMIT=10        # seconds lbvm may take to end the run once it was told to
FLOOD_TIMEOUT=90     # --timeout of the runs whose stdout nobody reads
PIPE_FULL=16384      # serial-log bytes by which the unread one-page stdout pipe is surely full

# wait_for FILE TEXT SECONDS: true once FILE contains TEXT, false when SECONDS pass first
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ "$i" -ge $(($3 * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}
# wait_size FILE BYTES SECONDS: true once FILE has at least BYTES
wait_size() {
	i=0
	while [ "$(wc -c <"$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		[ "$i" -ge $(($3 * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}
# start_lbvm OUT STDOUT ARGS...: lbvm boot in the background with stdout to STDOUT, stderr to OUT.err and
# the serial log to OUT.serial; sets $pid and $t_start
start_lbvm() {
	out=$1 to=$2
	shift 2
	rm -f "$out.err" "$out.serial"
	t_start=$(now)
	"$LBVM" boot "$@" --serial-log "$out.serial" </dev/null >"$to" 2>"$out.err" &
	pid=$!
}
# finish_lbvm SECONDS: wait for $pid to end by itself, for at most SECONDS (then it is killed and $rc is
# 137); sets $rc, $waited (seconds from now) and $elapsed (seconds from start_lbvm)
finish_lbvm() {
	t0=$(now)
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $(($1 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null && { echo "LBVM-TEST: INFO $current: lbvm still running after $1 s: killed"; kill -KILL "$pid"; }
	wait "$pid"
	rc=$?
	waited=$(echo "$(now) $t0" | awk '{ printf "%.2f", $1 - $2 }')
	elapsed=$(echo "$(now) $t_start" | awk '{ printf "%.2f", $1 - $2 }')
	echo "LBVM-TEST: INFO $current: exit $rc, $waited s after being told, $elapsed s in all"
}
# within A B: true when the number A is at most B
within() { echo "$1 $2" | awk '{ exit !($1 <= $2) }'; }
# show_bg OUT: what a failed background run left
show_bg() {
	echo "---- $1.serial (tail)"; tail -n 15 "$1.serial" 2>/dev/null
	echo "---- $1.err"; cat "$1.err"; echo "----"
}

# --- SIGTERM, SIGINT, SIGHUP: exit 6 at once, the serial log kept ---------------------------------------
# stop_signal SIGNAL TEXT: a hanging guest gets SIGNAL; strsignal's TEXT names it in the one line. Each
# call follows its scenario's begin on the same line, where tests/host/supervise.sh finds the name.
stop_signal() {
	o=$WORK/$current
	start_lbvm "$o" "$o.log" --kernel "$K64" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 lbvmtest=hang" --timeout $END_TIMEOUT
	if ! wait_for "$o.log" "LBVM-GUEST: hanging" $END_TIMEOUT; then
		kill -KILL "$pid"; wait "$pid"
		fail "the guest never reached its hang"; show_bg "$o"
		return
	fi
	kill -s "$1" "$pid"
	finish_lbvm $STOP_LIMIT
	if [ "$rc" = 6 ] && grep -q "stopped by the user (signal $2)" "$o.err" && [ "$(wc -l <"$o.err")" -ge 1 ] &&
		grep -q "LBVM-GUEST: hanging" "$o.serial" 2>/dev/null; then
		pass
	else
		fail "exit $rc after $waited s, expected 6 and the serial log with the guest's last line"; show_bg "$o"
	fi
}
begin sigterm-stops; stop_signal TERM Terminated
begin sigint-stops; stop_signal INT Interrupt
begin sighup-stops; stop_signal HUP Hangup

# --- Ctrl-A x typed at a terminal --------------------------------------------------------------------
begin ctrl-a-x-on-terminal
# Pseudo-terminals need devpts, which the test host's /init does not mount.
grep -q " /dev/pts " /proc/mounts || { mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; }
o=$WORK/ctrl-a-x
rm -f "$o.serial"
# lbvm-ptyrun (tests/host/ptyrun.c) runs lbvm on a pseudo-terminal and types Ctrl-A x once the guest hangs.
timeout -s KILL "$GUARD" lbvm-ptyrun $((END_TIMEOUT + 30)) "LBVM-GUEST: hanging" '\x01x' "$LBVM" boot --kernel "$K64" \
	--initrd "$INITRD" --memory 256M --append "console=ttyS0 lbvmtest=hang" --timeout $END_TIMEOUT \
	--serial-log "$o.serial" >"$o.log" 2>"$o.err"
rc=$?
if [ "$rc" = 6 ] && grep -q "stopped by the user (Ctrl-A x)" "$o.err" && grep -q "PTYRUN: sent=yes terminal restored=yes" "$o.log" &&
	grep -q "LBVM-GUEST: hanging" "$o.serial"; then
	pass
else
	fail "exit $rc, expected 6 with the terminal's modes restored"; show "$o"
fi

# --- the tiny test kernels ---------------------------------------------------------------------------
begin triple-fault-is-a-crash
run_lbvm "$WORK/triple" --kernel "$TK/triple-fault.bin" --timeout $END_TIMEOUT
if [ "$rc" = 5 ] && grep -q "LBVM-GUEST: triple fault next" "$WORK/triple.log" && grep -q "guest crashed.*triple fault" "$WORK/triple.err"; then
	pass
else
	fail "exit $rc, expected 5 with the triple fault named"; show "$WORK/triple"
fi

begin i8042-reset-without-message
run_lbvm "$WORK/kbc" --kernel "$TK/kbc-reset.bin" --timeout $END_TIMEOUT
if [ "$rc" = 0 ] && grep -q "LBVM-GUEST: i8042 reset next" "$WORK/kbc.log" && grep -q "guest rebooted" "$WORK/kbc.err" &&
	! grep -q "Restarting" "$WORK/kbc.serial"; then
	pass
else
	fail "exit $rc, expected 0 and 'guest rebooted' from the reset line alone"; show "$WORK/kbc"
fi

begin panic-confirmed-by-the-cpu
# The panic line without the end-of-panic line that Linux prints last, from the kernel's console (the
# UART's interrupts off), then a spin in ring 0: the line is only a hint, and lbvm ends the run as a panic
# once the vCPU has stayed in the kernel for 2 s (docs/boot.md, "How a run ends"), although the guest
# still runs.
run_lbvm "$WORK/grace" --kernel "$TK/panic-spin.bin" --timeout $END_TIMEOUT
after=$(sed -n 's/^lbvm: guest kernel panic after \([0-9.]*\) s.*/\1/p' "$WORK/grace.err")
if [ "$rc" = 3 ] && [ -n "$after" ] && within 2.0 "$after" && within "$after" $((2 + STOP_LIMIT)) &&
	grep -q "the rest of the panic report" "$WORK/grace.serial" && grep -q "lbvm test kernel" "$WORK/grace.err"; then
	echo "LBVM-TEST: INFO $current: ended $after s after the start"
	pass
else
	fail "exit $rc after '$after' s, expected 3 once the vCPU stayed in the kernel for 2 s"; show "$WORK/grace"
fi

# --- a console reader that stops reading: --timeout and SIGTERM still end the run ---------------------
# stalled_reader NAME: a flooding guest whose stdout is a one-page pipe that a reader holds but never
# reads (lbvm-stallpipe, tests/host/stallpipe.c: the guest's console is slow here, so a 64 KiB pipe would
# take minutes to fill); $pid is lbvm's own
stalled_reader() {
	o=$WORK/$1
	rm -f "$o.err" "$o.serial"
	t_start=$(now)
	lbvm-stallpipe "$LBVM" boot --kernel "$K64" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 lbvmtest=flood" --timeout $FLOOD_TIMEOUT --serial-log "$o.serial" \
		</dev/null 2>"$o.err" &
	pid=$!
}

begin stdout-reader-stops-timeout
stalled_reader reader-timeout
finish_lbvm $((FLOOD_TIMEOUT + STOP_LIMIT))
log_bytes=$(wc -c <"$o.serial" 2>/dev/null || echo 0)
if [ "$rc" = 4 ] && within "$elapsed" $((FLOOD_TIMEOUT + STOP_LIMIT)) && [ "$log_bytes" -ge "$PIPE_FULL" ] &&
	grep -q "timed out" "$o.err"; then
	echo "LBVM-TEST: INFO $current: serial log $log_bytes bytes"
	pass
else
	fail "exit $rc after $elapsed s with $log_bytes log bytes, expected 4 at --timeout $FLOOD_TIMEOUT"; show_bg "$o"
fi

begin stdout-reader-stops-sigterm
stalled_reader reader-sigterm
if wait_size "$o.serial" "$PIPE_FULL" $FLOOD_TIMEOUT; then
	kill -s TERM "$pid"
	finish_lbvm $STOP_LIMIT
	if [ "$rc" = 6 ] && grep -q "stopped by the user (signal Terminated)" "$o.err"; then
		pass
	else
		fail "exit $rc $waited s after SIGTERM, expected 6"; show_bg "$o"
	fi
else
	fail "the serial log never reached $PIPE_FULL bytes"
	kill -KILL "$pid"; wait "$pid"; show_bg "$o"
fi

# --- stdin still fed while the guest powers off ------------------------------------------------------
begin stdin-fed-at-poweroff
# A writer that never stops, at a pace the guest's console keeps up with (here every byte the guest echoes
# is a nested exit: a flood, as from yes(1), keeps it from ever reaching its power-off). lbvm must end
# when the guest powers off, with its input thread still busy.
o=$WORK/fed
rm -f "$o.rc"
t0=$(now)
(
	while :; do
		echo "input the guest never reads" || exit 0
		sleep 0.2
	done
) | {
	timeout -s KILL "$GUARD" "$LBVM" boot --kernel "$K64" --initrd "$INITRD" --memory 256M \
		--append "console=ttyS0 lbvmtest=info" --timeout $END_TIMEOUT --serial-log "$o.serial" >"$o.log" 2>"$o.err"
	echo $? >"$o.rc"
}
rc=$(cat "$o.rc")
elapsed=$(echo "$(now) $t0" | awk '{ printf "%.2f", $1 - $2 }')
echo "LBVM-TEST: INFO $current: exit $rc after $elapsed s"
if [ "$rc" = 0 ] && grep -q "guest powered off" "$o.err" && grep -q "LBVM-GUEST: memtotal_kb=" "$o.log" &&
	grep -q "input the guest never reads" "$o.log"; then
	pass
else
	fail "exit $rc, expected 0 (power-off) with stdin still being fed"; show "$o"
fi
