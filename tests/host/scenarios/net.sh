# Issue 13's network: Debian's 686 kernel drives lbvm's e1000 with its own e1000 module, gets its lease
# by DHCP (busybox udhcpc), resolves names and fetches files over HTTP from lbvm's hermetic mirror; what
# the mirror must refuse is refused, and nothing else is reachable. Online mode reaches a server on the
# test host's loopback through 10.0.2.2, as QEMU's -nic user does.
. /lbvm-tests/scenarios/lib.sh
NET_TIMEOUT=400
GUARD=$((NET_TIMEOUT + 60))
HTTPD_PORT=8080

# The test host's loopback carries the server both modes are tried against.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

# The cache: files verified against the manifest, then one of them changed on disk afterwards, and one
# manifest entry with no file at all.
cache=$WORK/net-cache
manifest=$WORK/net.manifest
rm -rf "$cache"
mkdir -p "$cache" "$WORK/www"
dd if=/dev/urandom of="$cache/good.tar" bs=1024 count=700 2>/dev/null
dd if=/dev/urandom of="$cache/tampered.tar" bs=1024 count=60 2>/dev/null
printf 'a small distfile\n' >"$cache/small.txt"
: >"$manifest"
for f in good.tar tampered.tar small.txt; do
	echo "f http://upstream.invalid/dist/$f $(sha256sum "$cache/$f" | cut -d' ' -f1) $f" >>"$manifest"
done
echo "f http://upstream.invalid/dist/missing.tar 5e2bf57d3f40c4b6df69daf1936cb766f832374b4fc0259a7cbff06e2f70f269 missing.tar" >>"$manifest"
printf 'X' | dd of="$cache/tampered.tar" bs=1 seek=1000 conv=notrunc 2>/dev/null
good_sha=$(sha256sum "$cache/good.tar" | cut -d' ' -f1)
small_sha=$(sha256sum "$cache/small.txt" | cut -d' ' -f1)

# A web server on the test host's loopback, with the same file.
cp "$cache/good.tar" "$WORK/www/good.tar"
httpd -p 127.0.0.1:$HTTPD_PORT -h "$WORK/www"

# gv KEY: a LBVM-GUEST value of the hermetic run
gv() { guest_value "$WORK/nh" "$1"; }
# line TEXT: the hermetic run's guest printed exactly this line
line() { tr -d '\r' <"$WORK/nh.log" | grep -qx "LBVM-GUEST: $1"; }

run_lbvm "$WORK/nh" --kernel "$K32" --initrd "$INITRD" --memory 512M \
	--net hermetic --net-cache "$cache" --net-manifest "$manifest" --timeout $NET_TIMEOUT \
	--append "console=ttyS0 pci=conf1 lbvmtest=net-fetch lbvm.fetch=good.tar,small.txt,missing.tar,tampered.tar,unknown.tar lbvm.connect=10.0.2.2:$HTTPD_PORT,10.0.2.2,10.0.2.4:443,93.184.216.34,1.1.1.1:$HTTPD_PORT"
hrc=$rc
hshown=
hshow() { [ -n "$hshown" ] || show "$WORK/nh"; hshown=1; }

begin net-e1000-dhcp-686
lease=$(gv lease)
echo "LBVM-TEST: INFO net-e1000-dhcp-686: $(gv carrier); lease $lease"
if [ "$hrc" = 0 ] && grep -q "Intel(R) PRO/1000 Network Connection" "$WORK/nh.log" && grep -q "NIC Link is Up 1000 Mbps Full Duplex" "$WORK/nh.log" &&
	[ "$(gv dhcp)" = ok ] && [ "$lease" = "10.0.2.15 10.0.2.2 10.0.2.3" ]; then
	pass
else
	fail "exit $hrc, dhcp '$(gv dhcp)', lease '$lease'"; hshow
fi

begin net-hermetic-dns-and-probe
# Every name is the mirror, and the chain's probe (curl example.com) gets a page.
resolved=$(gv resolved)
if [ "$resolved" = "10.0.2.4 " ] && gv probe | grep -q '^ok [0-9]'; then
	pass
else
	fail "example.com resolved to '$resolved', probe '$(gv probe)'"; hshow
fi

begin net-hermetic-fetch-identical
# Byte-identical to the cache: the guest's SHA-256 of what it received.
if line "fetch good.tar=ok $good_sha" && line "fetch small.txt=ok $small_sha"; then
	pass
else
	fail "good.tar '$(sed -n 's/^LBVM-GUEST: fetch good.tar=//p' "$WORK/nh.log" | tr -d '\r')' want $good_sha"; hshow
fi

begin net-hermetic-refusals
# Not in the cache, not in the manifest: 404; changed on disk after verification: 403. lbvm says so.
if line "fetch missing.tar=failed 404" && line "fetch unknown.tar=failed 404" && line "fetch tampered.tar=failed 403" &&
	grep -q "mirror: refused 'missing.tar': not-in-cache (HTTP 404)" "$WORK/nh.err" &&
	grep -q "mirror: refused 'unknown.tar': not-in-manifest (HTTP 404)" "$WORK/nh.err" &&
	grep -q "mirror: refused 'tampered.tar': hash-mismatch (HTTP 403)" "$WORK/nh.err" &&
	grep -q "the mirror served 2 file(s)" "$WORK/nh.err"; then
	pass
else
	fail "refusals not as expected"; grep 'fetch\|mirror' "$WORK/nh.log" "$WORK/nh.err"; hshow
fi

begin net-hermetic-no-way-out
# The host's loopback (where a server listens), another port of the mirror, addresses outside: every
# connection is refused (restricted slirp resets it), which also shows the attempt was made.
ok=1
for t in 10.0.2.2:$HTTPD_PORT 10.0.2.2 10.0.2.4:443 93.184.216.34 1.1.1.1:$HTTPD_PORT; do
	v=$(sed -n "s/^LBVM-GUEST: connect $t=//p" "$WORK/nh.log" | tr -d '\r')
	echo "LBVM-TEST: INFO net-hermetic-no-way-out: $t -> $v"
	case "$v" in "failed "*"Connection refused"*) ;; *) ok=0 ;; esac
done
if [ "$ok" = 1 ]; then pass; else fail "a connection left the machine"; hshow; fi

begin net-online-host-loopback
# Online mode: 10.0.2.2 is the test host's loopback, where httpd serves the same file.
run_lbvm "$WORK/no" --kernel "$K32" --initrd "$INITRD" --memory 512M --net user --timeout $NET_TIMEOUT \
	--append "console=ttyS0 pci=conf1 lbvmtest=net-url lbvm.url=http://10.0.2.2:$HTTPD_PORT/good.tar"
got=$(sed -n 's/^LBVM-GUEST: url //p' "$WORK/no.log" | tr -d '\r' | head -n1)
echo "LBVM-TEST: INFO net-online-host-loopback: $got"
if [ "$rc" = 0 ] && echo "$got" | grep -q "^rc=0 .* sha256=$good_sha\$"; then
	pass
else
	fail "exit $rc, '$got'"; show "$WORK/no"
fi
# The network's threads are confined (docs/security.md): the test hook on each of them stops lbvm with
# the report and exit status 10 before the guest runs.
net_hook() { # KIND, after begin; the rest: lbvm's --net options
	kind=$1
	shift
	export LBVM_TEST_FORBIDDEN_SYSCALL=$kind
	run_lbvm "$WORK/hook-$kind" --kernel "$K32" --initrd "$INITRD" --memory 256M "$@" --timeout 120 \
		--append "console=ttyS0 lbvmtest=hang"
	unset LBVM_TEST_FORBIDDEN_SYSCALL
	if [ "$rc" = 10 ] && [ "$(wc -l <"$WORK/hook-$kind.err")" = 1 ] &&
	   grep -q "^lbvm: sandbox: the $kind thread made a forbidden system call: openat (257); lbvm stops (exit status 10" "$WORK/hook-$kind.err"; then
		pass
	else
		fail "exit $rc, stderr: $(cat "$WORK/hook-$kind.err")"; show "$WORK/hook-$kind"
	fi
}
begin net-sandbox-hook-net; net_hook net --net hermetic --net-cache "$cache" --net-manifest "$manifest"
begin net-sandbox-hook-net-online; net_hook net-online --net user
begin net-sandbox-hook-mirror; net_hook mirror --net hermetic --net-cache "$cache" --net-manifest "$manifest"
kill $(pidof httpd) 2>/dev/null
