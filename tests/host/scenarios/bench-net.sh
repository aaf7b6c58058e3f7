# Network benchmark (not a test; run by bench/run.sh): one file of BENCH_NET_MB MiB fetched over HTTP by
# the same 686 guest kernel and busybox wget, timed inside the guest, in one test-host boot:
#   lbvm hermetic   lbvm's e1000 + slirp + its own mirror (hashing the file twice as it serves it)
#   lbvm online     lbvm's e1000 + slirp, from busybox httpd on the test host's loopback (10.0.2.2)
#   qemu            QEMU-KVM -netdev user + -device e1000, from the same httpd
. /lbvm-tests/scenarios/lib.sh
RUNS=${BENCH_RUNS:-3}
MB=${BENCH_NET_MB:-32}
PORT=8080
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

begin bench-net
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
cache=$WORK/bench-cache
rm -rf "$cache" "$WORK/bench-www"
mkdir -p "$cache" "$WORK/bench-www"
dd if=/dev/urandom of="$cache/big.bin" bs=1M count="$MB" 2>/dev/null
sha=$(sha256sum "$cache/big.bin" | cut -d' ' -f1)
echo "f http://upstream.invalid/big.bin $sha big.bin" >"$WORK/bench.manifest"
ln "$cache/big.bin" "$WORK/bench-www/big.bin"
httpd -p 127.0.0.1:$PORT -h "$WORK/bench-www"
APPEND="console=ttyS0 pci=conf1 lbvmtest=net-url"
for v in hermetic online qemu; do : >"$WORK/net-$v"; done
# one VARIANT OUT: append the guest's "url" line of one run to $WORK/net-VARIANT
one() {
	case $1 in
	hermetic)
		timeout 900 "$LBVM" boot --kernel "$K32" --initrd "$INITRD" --memory 512M --net hermetic \
			--net-cache "$cache" --net-manifest "$WORK/bench.manifest" --append "$APPEND lbvm.url=http://10.0.2.4/big.bin" ;;
	online)
		timeout 900 "$LBVM" boot --kernel "$K32" --initrd "$INITRD" --memory 512M --net user \
			--append "$APPEND lbvm.url=http://10.0.2.2:$PORT/big.bin" ;;
	qemu)
		timeout 900 qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 512M -nographic -no-reboot -nodefaults \
			-serial stdio -L /usr/share/qemu -kernel "$K32" -initrd "$INITRD" \
			-append "$APPEND lbvm.url=http://10.0.2.2:$PORT/big.bin" \
			-netdev user,id=n0 -device e1000,netdev=n0,romfile= ;;
	esac </dev/null 2>/dev/null | tr -d '\r' | sed -n 's/^LBVM-GUEST: url //p' >>"$WORK/net-$1"
	echo "LBVM-TEST: INFO bench-net: $1 run: $(tail -n1 "$WORK/net-$1")"
}
i=0
while [ $i -lt "$RUNS" ]; do
	one hermetic
	one online
	one qemu
	i=$((i + 1))
done
kill $(pidof httpd) 2>/dev/null
ok=1
for v in hermetic online qemu; do
	good=$(grep -c "^rc=0 .* bytes=$((MB * 1048576)) sha256=$sha\$" "$WORK/net-$v")
	[ "$good" = "$RUNS" ] || ok=0
	cs=$(sed -n 's/^rc=0 cs=\([0-9]*\) .*/\1/p' "$WORK/net-$v" | median)
	echo "LBVM-TEST: BENCH net $v: $MB MiB over HTTP, median $cs cs, $(echo "$MB $cs" | awk '{ printf "%.2f", ($2 > 0) ? $1 * 100 / $2 : 0 }') MiB/s (runs: $(sed -n 's/^rc=0 cs=\([0-9]*\) .*/\1/p' "$WORK/net-$v" | tr '\n' ' '))"
done
if [ "$ok" = 1 ]; then pass; else fail "not every run fetched the whole file intact"; cat "$WORK"/net-*; fi
