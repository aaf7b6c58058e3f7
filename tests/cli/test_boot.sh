# lbvm boot's checks of the user's input, which all come before KVM is touched: each is exit 2 with one
# line on stderr. (Running guests is the KVM test host's job: tests/host.)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! cache=$("$root/tests/host/fixtures.sh"); then
	echo "FAIL boot-fixtures: tests/host/fixtures.sh failed (its last line says why); no boot test ran"
	echo END
	exit 1
fi
K64=$(ls "$cache"/amd64/boot/vmlinuz-* | head -n1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME STATUS TEXT ARGS...: exit STATUS, exactly one stderr line containing TEXT
expect() {
	name=$1 want=$2 text=$3
	shift 3
	"$LBVM" boot "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && grep -q -- "$text" "$tmp/err"; then
		echo "PASS boot-$name"
	else
		echo "FAIL boot-$name: exit $rc ($want expected), $lines stderr lines: $(head -c 300 "$tmp/err")"
	fi
}

head -c 2000000 "$K64" >"$tmp/truncated"
head -c 4096 /dev/urandom >"$tmp/garbage"
: >"$tmp/empty"
printf 'x' >"$tmp/initrd"
dd if=/dev/zero of="$tmp/big" bs=1M count=1 seek=300 2>/dev/null

expect no-kernel-option 2 "--kernel FILE is required"
expect unknown-option 2 "unknown option" --kernel "$K64" --frobnicate
expect missing-kernel 2 "No such file or directory" --kernel "$tmp/nope"
expect kernel-is-directory 2 "not a regular file" --kernel "$tmp"
expect empty-kernel 2 "is empty" --kernel "$tmp/empty"
expect garbage-kernel 2 "not a Linux x86 kernel" --kernel "$tmp/garbage"
expect truncated-kernel 2 "truncated" --kernel "$tmp/truncated"
expect missing-initrd 2 "initrd '$tmp/nope': No such file" --kernel "$K64" --initrd "$tmp/nope"
expect empty-initrd 2 "is empty" --kernel "$K64" --initrd "$tmp/empty"
expect initrd-too-big 2 "does not fit" --kernel "$K64" --initrd "$tmp/big" --memory 256M
expect memory-garbage 2 "--memory" --kernel "$K64" --memory 12Q
expect memory-too-small 2 "--memory" --kernel "$K64" --memory 1M
expect memory-not-mib 2 "--memory" --kernel "$K64" --memory 1000000
expect memory-too-small-for-kernel 2 "decompress" --kernel "$K64" --memory 48M
expect timeout-garbage 2 "--timeout" --kernel "$K64" --timeout soon
expect timeout-negative 2 "--timeout" --kernel "$K64" --timeout -5
expect entry-garbage 2 "--entry" --kernel "$K64" --entry 16
expect idle-exit-zero 2 "--idle-exit" --kernel "$K64" --idle-exit 0
expect idle-exit-garbage 2 "--idle-exit" --kernel "$K64" --idle-exit later
expect cmdline-too-long 2 "command line" --kernel "$K64" --append "$(head -c 3000 /dev/zero | tr '\0' y)"
SOURCE_DATE_EPOCH=tuesday expect bad-source-date-epoch 2 "SOURCE_DATE_EPOCH" --kernel "$K64"
expect serial-log-unwritable 2 "--serial-log" --kernel "$K64" --initrd "$tmp/initrd" --serial-log "$tmp/no/such/dir/log"

# --firmware boots a disk: no kernel options, one or two disks, a boot sector on the first.
truncate -s 1M "$tmp/blank.img"
cp "$tmp/blank.img" "$tmp/boot.img"
printf '\125\252' | dd of="$tmp/boot.img" bs=1 seek=510 conv=notrunc 2>/dev/null
printf 'x' >"$tmp/odd.img"
expect firmware-no-disk 2 "needs a --disk" --firmware
expect firmware-with-kernel 2 "--kernel does not go with --firmware" --firmware --disk "$tmp/boot.img" --kernel "$K64"
expect firmware-with-initrd 2 "--initrd does not go with --firmware" --firmware --disk "$tmp/boot.img" --initrd "$tmp/initrd"
expect firmware-with-append 2 "--append does not go with --firmware" --firmware --disk "$tmp/boot.img" --append x
expect firmware-with-entry 2 "--entry does not go with --firmware" --firmware --disk "$tmp/boot.img" --entry 32
expect firmware-three-disks 2 "at most 2 disks" --firmware --disk "$tmp/boot.img" --disk "$tmp/blank.img" --disk "$tmp/blank.img"
expect firmware-no-boot-sector 2 "no boot sector" --firmware --disk "$tmp/blank.img"
expect firmware-missing-disk 2 "No such file" --firmware --disk "$tmp/nope.img"
expect firmware-odd-disk 2 "--disk" --firmware --disk "$tmp/odd.img"
expect firmware-bad-memory 2 "--memory" --firmware --disk "$tmp/boot.img" --memory 5Q
expect kernel-or-firmware 2 "--kernel FILE is required (or --firmware" --memory 1G

if "$LBVM" boot --help | grep -q -- "--firmware"; then echo "PASS boot-help-firmware"; else echo "FAIL boot-help-firmware"; fi

# --net and the mirror's inputs
mkdir -p "$tmp/cache"
printf 'f http://upstream.invalid/a.tar 0123 a.tar\n' >"$tmp/bad.manifest"
printf 'f http://upstream.invalid/a.tar %s a.tar\n' "$(printf x | sha256sum | cut -d' ' -f1)" >"$tmp/good.manifest"
expect net-mode-garbage 2 "--net 'wifi': expected user or hermetic" --kernel "$K64" --net wifi
expect net-cache-without-net 2 "--net-cache needs --net" --kernel "$K64" --net-cache "$tmp/cache"
expect net-manifest-without-cache 2 "--net-manifest needs --net-cache" --kernel "$K64" --net user --net-manifest "$tmp/good.manifest"
expect net-cache-without-manifest 2 "at least one --net-manifest" --kernel "$K64" --net user --net-cache "$tmp/cache"
expect net-hermetic-needs-cache 2 "--net hermetic serves the verified cache" --kernel "$K64" --net hermetic
expect net-cache-missing 2 "--net-cache '$tmp/nope': No such file" --kernel "$K64" --net hermetic --net-cache "$tmp/nope" --net-manifest "$tmp/good.manifest"
expect net-cache-not-a-directory 2 "not a directory" --kernel "$K64" --net hermetic --net-cache "$tmp/initrd" --net-manifest "$tmp/good.manifest"
expect net-manifest-missing 2 "--net-manifest: .*nope" --kernel "$K64" --net hermetic --net-cache "$tmp/cache" --net-manifest "$tmp/nope"
expect net-manifest-malformed 2 "--net-manifest: .*bad.manifest:1" --kernel "$K64" --net user --net-cache "$tmp/cache" --net-manifest "$tmp/bad.manifest"

# disk images are locked (docs/security.md): one image given twice, under another name, is refused ...
head -c 1048576 /dev/zero >"$tmp/disk.img"
ln "$tmp/disk.img" "$tmp/disk-link.img"
expect disk-given-twice 2 "is the same image as disk '$tmp/disk.img' (given twice)" --kernel "$K64" \
	--disk "$tmp/disk.img" --disk "$tmp/disk-link.img,ro"
# ... and so is an image another process holds a lock on (here a classic POSIX lock, as a second lbvm's
# OFD lock would be), for boot and for lbvm disk alike
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+b"); fcntl.lockf(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(60)' \
	"$tmp/disk.img" >"$tmp/locker" &
locker=$!
for i in $(seq 100); do grep -q locked "$tmp/locker" && break; sleep 0.1; done
expect disk-in-use 2 "disk '$tmp/disk.img' is in use" --kernel "$K64" --disk "$tmp/disk.img,ro"
"$LBVM" disk ls "$tmp/disk.img" >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "is in use" "$tmp/err"; then
	echo "PASS disk-ls-image-in-use"
else
	echo "FAIL disk-ls-image-in-use: exit $rc: $(cat "$tmp/err")"
fi
kill "$locker"
wait "$locker" 2>/dev/null

if "$LBVM" boot --help | grep -q -- "--serial-log"; then echo "PASS boot-help"; else echo "FAIL boot-help"; fi

if [ -e /dev/kvm ]; then
	echo "SKIP boot-no-dev-kvm: this machine has /dev/kvm; the KVM test host checks this case (scenario no-dev-kvm)"
else
	expect no-dev-kvm 2 "/dev/kvm does not exist" --kernel "$K64" --initrd "$tmp/initrd"
	[ -z "$(ls "$tmp"/*.tmp-* 2>/dev/null)" ] && echo "PASS boot-no-temp-files-left" ||
		echo "FAIL boot-no-temp-files-left"
fi
echo END
