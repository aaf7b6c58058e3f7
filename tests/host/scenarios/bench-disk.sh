# Disk benchmark (not a test; run by bench/run.sh): throughput from inside the guest, lbvm's AHCI against
# QEMU's own, in one test-host boot.
. /lbvm-tests/scenarios/lib.sh
RUNS=${BENCH_RUNS:-3}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

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
		3) what="4 KiB random reads (200)" ;; esac
		# Throughput ratio lbvm/qemu = qemu time / lbvm time (above 1: lbvm faster).
		echo "LBVM-TEST: BENCH disk $what: median lbvm $l cs, qemu $q cs, throughput ratio lbvm/qemu $(echo "$l $q" | awk '{ printf "%.2f", ($1 > 0) ? $2 / $1 : 0 }')"
	done
	pass
else
	fail "not every run reported its times"
fi
