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

# Disk throughput from inside the guest: lbvm's AHCI against QEMU's own (-device ahci + ide-hd), same
# 512 MiB image file, same kernel and initramfs.
begin bench-disk
img=$WORK/bench.img
rm -f "$img"
dd if=/dev/zero of="$img" bs=1M count=0 seek=512 2>/dev/null
: >"$WORK/disk-lbvm"
: >"$WORK/disk-qemu"
DAPPEND="console=ttyS0 pci=conf1 lbvmtest=disk-bench"
i=0
while [ $i -lt "$RUNS" ]; do
	timeout 600 "$LBVM" boot --kernel "$K64" --initrd "$INITRD" --memory 512M --disk "$img" --append "$DAPPEND" \
		</dev/null 2>/dev/null | tr -d '\r' | sed -n 's/^LBVM-GUEST: bench_cs=//p' >>"$WORK/disk-lbvm"
	timeout 600 qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 512M -nographic -no-reboot -nodefaults \
		-serial stdio -L /usr/share/qemu -kernel "$K64" -initrd "$INITRD" -append "$DAPPEND" \
		-device ahci,id=ahci -drive if=none,id=d0,file="$img",format=raw -device ide-hd,drive=d0,bus=ahci.0 \
		</dev/null 2>/dev/null | tr -d '\r' | sed -n 's/^LBVM-GUEST: bench_cs=//p' >>"$WORK/disk-qemu"
	i=$((i + 1))
done
echo "LBVM-TEST: BENCH disk lbvm runs (cs: seq-write seq-read rand-read): $(tr '\n' ';' <"$WORK/disk-lbvm")"
echo "LBVM-TEST: BENCH disk qemu runs (cs: seq-write seq-read rand-read): $(tr '\n' ';' <"$WORK/disk-qemu")"
if [ "$(wc -l <"$WORK/disk-lbvm")" = "$RUNS" ] && [ "$(wc -l <"$WORK/disk-qemu")" = "$RUNS" ]; then
	for col in 1 2 3; do
		l=$(cut -d' ' -f$col "$WORK/disk-lbvm" | median)
		q=$(cut -d' ' -f$col "$WORK/disk-qemu" | median)
		case $col in 1) what="sequential 1 MiB writes (256 MiB)" ;; 2) what="sequential 1 MiB reads (256 MiB)" ;;
		3) what="4 KiB random reads (1000)" ;; esac
		# Throughput ratio lbvm/qemu = qemu time / lbvm time (above 1: lbvm faster).
		echo "LBVM-TEST: BENCH disk $what: median lbvm $l cs, qemu $q cs, throughput ratio lbvm/qemu $(echo "$l $q" | awk '{ printf "%.2f", ($1 > 0) ? $2 / $1 : 0 }')"
	done
	pass
else
	fail "not every run reported its times"
fi
