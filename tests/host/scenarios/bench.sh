# Boot-time benchmark (not a test; run by bench/run.sh): from process start to the guest init's first line,
# lbvm against QEMU with KVM, same kernel, initramfs, memory and one vCPU, in this one test-host boot.
. /lbvm-tests/scenarios/lib.sh
RUNS=${BENCH_RUNS:-5}
APPEND="console=ttyS0 lbvmtest=info"

# time_to_init OUTFILE CMD...: seconds from start to "LBVM-GUEST: init reached" on the command's output
time_to_init() {
	rm -f "$1"
	mark=$1
	shift
	t0=$(now)
	timeout 300 "$@" </dev/null 2>/dev/null | while IFS= read -r line; do
		case "$line" in *"LBVM-GUEST: init reached"*) [ -f "$mark" ] || now >"$mark" ;; esac
	done
	[ -f "$mark" ] && echo "$(cat "$mark") $t0" | awk '{ printf "%.2f", $1 - $2 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

begin bench-boot
: >"$WORK/lbvm.times"
: >"$WORK/qemu.times"
i=0
while [ $i -lt "$RUNS" ]; do
	# Interleaved, so that drift in the emulated host affects both alike.
	t=$(time_to_init "$WORK/mark" "$LBVM" boot --kernel "$K64" --initrd "$INITRD" --memory 512M --append "$APPEND")
	echo "LBVM-TEST: BENCH boot lbvm run $i: ${t:-failed} s"
	[ -n "$t" ] && echo "$t" >>"$WORK/lbvm.times"
	t=$(time_to_init "$WORK/mark" qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 512M -nographic \
		-no-reboot -nodefaults -serial stdio -L /usr/share/qemu -kernel "$K64" -initrd "$INITRD" -append "$APPEND")
	echo "LBVM-TEST: BENCH boot qemu run $i: ${t:-failed} s"
	[ -n "$t" ] && echo "$t" >>"$WORK/qemu.times"
	i=$((i + 1))
done
nl=$(wc -l <"$WORK/lbvm.times")
nq=$(wc -l <"$WORK/qemu.times")
if [ "$nl" = "$RUNS" ] && [ "$nq" = "$RUNS" ]; then
	ml=$(median <"$WORK/lbvm.times")
	mq=$(median <"$WORK/qemu.times")
	echo "LBVM-TEST: BENCH boot-to-init median over $RUNS runs: lbvm $ml s, qemu-kvm $mq s, ratio lbvm/qemu $(echo "$ml $mq" | awk '{ printf "%.2f", $1 / $2 }')"
	pass
else
	fail "only $nl lbvm and $nq qemu runs reached init"
fi
