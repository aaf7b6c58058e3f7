#!/bin/sh
# lbvm mkinitramfs / mkdisk / disk against the real tools: cpio, gzip, sfdisk, e2fsck, du.
# Prints PASS/FAIL/SKIP lines (tests/cli/run.sh totals them).
set -u
: "${LBVM:?set LBVM to the lbvm binary}"
work=$(mktemp -d /tmp/lbvm-images-XXXXXX)
trap 'umount "$work/mnt" 2>/dev/null; chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000
export TZ=UTC LC_ALL=C # cpio -tv and dumpe2fs print local dates

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
have() { command -v "$1" >/dev/null 2>&1; }

# The same tree twice: different umask, creation order and source mtimes; same names, contents, modes.
make_tree() { # DIR ORDER(1|2)
	d=$1
	mkdir -p "$d"
	if [ "$2" = 1 ]; then
		mkdir "$d/bin" "$d/etc" "$d/usr" "$d/usr/src" "$d/empty"
		printf '#!/bin/sh\necho hi\n' > "$d/bin/hello"
		printf 'key=value\n' > "$d/etc/conf"
		head -c 300000 /dev/zero | tr '\0' 'z' > "$d/usr/src/big"
		: > "$d/usr/src/empty-file"
	else
		mkdir "$d/usr" "$d/usr/src" "$d/empty" "$d/etc" "$d/bin"
		: > "$d/usr/src/empty-file"
		head -c 300000 /dev/zero | tr '\0' 'z' > "$d/usr/src/big"
		printf 'key=value\n' > "$d/etc/conf"
		printf '#!/bin/sh\necho hi\n' > "$d/bin/hello"
	fi
	ln "$d/bin/hello" "$d/usr/hello-again"
	ln -s ../bin/hello "$d/usr/hello-link"
	ln -s /does/not/exist "$d/dangling"
	chmod 0755 "$d" "$d/bin" "$d/etc" "$d/usr" "$d/usr/src"
	chmod 0700 "$d/empty"
	chmod 4755 "$d/bin/hello"
	chmod 0640 "$d/etc/conf"
	chmod 0644 "$d/usr/src/big" "$d/usr/src/empty-file"
}

(umask 022; make_tree "$work/a" 1)
(umask 077; make_tree "$work/b" 2)
find "$work/b" -exec touch -h -d '2001-02-03 04:05:06' {} +
cat > "$work/spec" <<'SPEC'
# what an ordinary user cannot create
dir /dev 0755 0 0
nod /dev/console 0600 0 5 c 5 1
nod /dev/sda 0660 0 6 b 8 0
attr /etc/conf 0640 0 42
SPEC

sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- reproducibility ----
repro() { # NAME then the lbvm arguments with @SRC@ and @OUT@
	name=$1
	shift
	ok=1
	for side in a b; do
		args=
		for x in "$@"; do
			case $x in
			@SRC@) x=$work/$side ;;
			@OUT@) x=$work/$name.$side ;;
			esac
			args="$args \"$x\""
		done
		um=022
		[ "$side" = b ] && um=077
		if ! (umask $um; eval "\"$LBVM\" $args") 2>"$work/err"; then
			fail "$name" "lbvm failed on tree $side: $(cat "$work/err")"
			return
		fi
	done
	if [ "$(sha "$work/$name.a")" = "$(sha "$work/$name.b")" ]; then
		pass "$name (sha256 $(sha "$work/$name.a" | cut -c1-16)...)"
	else
		fail "$name" "same tree, different bytes"
	fi
}
repro repro_initramfs mkinitramfs @SRC@ -o @OUT@ --spec "$work/spec"
repro repro_initramfs_gzip mkinitramfs @SRC@ -o @OUT@ --gzip --spec "$work/spec"
repro repro_mkdisk_ext4 mkdisk @SRC@ -o @OUT@ --size 64M --spec "$work/spec"
repro repro_mkdisk_ext3_raw mkdisk @SRC@ -o @OUT@ --size 32M --fs ext3 --raw
repro repro_mkdisk_ext2 mkdisk @SRC@ -o @OUT@ --size 16M --fs ext2 --part-offset 4M

# the epoch reaches the output (a test that could not fail otherwise)
if SOURCE_DATE_EPOCH=1 "$LBVM" mkinitramfs "$work/a" -o "$work/e1.cpio" &&
   [ "$(sha "$work/e1.cpio")" != "$(sha "$work/repro_initramfs.a")" ]; then
	pass epoch_changes_output
else
	fail epoch_changes_output "SOURCE_DATE_EPOCH=1 gave the same archive"
fi

# ---- the initramfs as cpio and gzip see it ----
expected="$work/expected.lst"
cat > "$expected" <<'LIST'
.
bin
bin/hello
dangling
dev
dev/console
dev/sda
empty
etc
etc/conf
usr
usr/hello-again
usr/hello-link
usr/src
usr/src/big
usr/src/empty-file
LIST
if have cpio; then
	if cpio -it --quiet < "$work/repro_initramfs.a" > "$work/got.lst" 2>"$work/err" && cmp -s "$expected" "$work/got.lst"; then
		pass cpio_lists_expected_entries
	else
		fail cpio_lists_expected_entries "$(diff "$expected" "$work/got.lst" | head -5 | tr '\n' ' ') $(cat "$work/err")"
	fi
	verbose=$(cpio -itv --quiet < "$work/repro_initramfs.a" 2>/dev/null)
	if echo "$verbose" | grep -q '^crw------- .* 5, *1 .* dev/console$' &&
	   echo "$verbose" | grep -q '^-rwsr-xr-x .* usr/hello-again$' &&
	   ! echo "$verbose" | grep -v ' Nov 14  2023 ' | grep -q .; then
		pass cpio_modes_devices_times
	else
		fail cpio_modes_devices_times "$(echo "$verbose" | head -4 | tr '\n' '|')"
	fi
	mkdir "$work/x"
	if (cd "$work/x" && "$LBVM" mkinitramfs "$work/a" -o "$work/nospec.cpio" && cpio -idm --quiet < "$work/nospec.cpio") 2>"$work/err" &&
	   diff -r --no-dereference "$work/a" "$work/x" >"$work/err" 2>&1 &&
	   [ "$(stat -c %i "$work/x/bin/hello")" = "$(stat -c %i "$work/x/usr/hello-again")" ]; then
		pass cpio_extracts_to_the_input_tree
	else
		fail cpio_extracts_to_the_input_tree "$(head -3 "$work/err" | tr '\n' ' ')"
	fi
else
	skip cpio_lists_expected_entries "cpio is not installed (tests/deps/debian-packages.txt)"
fi
if gzip -t "$work/repro_initramfs_gzip.a" 2>/dev/null &&
   gzip -dc "$work/repro_initramfs_gzip.a" | cmp -s - "$work/repro_initramfs.a" &&
   [ "$(od -An -tx1 -j3 -N5 "$work/repro_initramfs_gzip.a" | tr -d ' ')" = 0000000000 ]; then
	pass gzip_valid_no_name_no_time
else
	fail gzip_valid_no_name_no_time "gzip -t failed, content differs, or the header has a name or time"
fi

# ---- the disk as sfdisk and e2fsck see it ----
part_of() { # IMG START_SECTOR -> $work/part.img (sparse copy of the partition)
	dd if="$1" of="$work/part.img" bs=512 skip="$2" conv=sparse status=none
}
if have sfdisk; then
	t=$(sfdisk -d "$work/repro_mkdisk_ext4.a" 2>&1)
	if echo "$t" | grep -q '^label: dos$' &&
	   echo "$t" | grep -Eq 'repro_mkdisk_ext4\.a1 : start= *2048, size= *129024, type=83$' &&
	   [ "$(echo "$t" | grep -c ' : start=')" = 1 ]; then
		pass sfdisk_one_linux_partition_at_1MiB
	else
		fail sfdisk_one_linux_partition_at_1MiB "$(echo "$t" | tr '\n' '|')"
	fi
	t=$(sfdisk -d "$work/repro_mkdisk_ext2.a" 2>&1)
	if echo "$t" | grep -Eq 'start= *8192, size= *24576, type=83$'; then
		pass sfdisk_part_offset
	else
		fail sfdisk_part_offset "$(echo "$t" | tr '\n' '|')"
	fi
	if ! sfdisk -d "$work/repro_mkdisk_ext3_raw.a" >/dev/null 2>&1; then
		pass sfdisk_raw_has_no_table
	else
		fail sfdisk_raw_has_no_table "sfdisk found a table in a --raw image"
	fi
else
	skip sfdisk_one_linux_partition_at_1MiB "sfdisk is not installed (package fdisk)"
fi
if have e2fsck; then
	for c in "ext4 repro_mkdisk_ext4.a 2048" "ext2 repro_mkdisk_ext2.a 8192" "ext3 repro_mkdisk_ext3_raw.a 0"; do
		set -- $c
		part_of "$work/$2" "$3"
		if e2fsck -fn "$work/part.img" >"$work/fsck" 2>&1; then
			pass "e2fsck_clean_$1"
		else
			fail "e2fsck_clean_$1" "$(tail -3 "$work/fsck" | tr '\n' ' ')"
		fi
	done
	if have dumpe2fs; then
		part_of "$work/repro_mkdisk_ext4.a" 2048
		h=$(dumpe2fs -h "$work/part.img" 2>/dev/null)
		if echo "$h" | grep -q '^Filesystem created: *Tue Nov 14 22:13:20 2023' &&
		   echo "$h" | grep -q '^Last write time: *Tue Nov 14 22:13:20 2023' &&
		   echo "$h" | grep -q '^Filesystem features:.*has_journal.*extent.*metadata_csum'; then
			pass ext4_times_and_features_pinned
		else
			fail ext4_times_and_features_pinned "$(echo "$h" | grep -E 'created|write time|features' | tr '\n' '|')"
		fi
	fi
else
	skip e2fsck_clean "e2fsck is not installed (package e2fsprogs)"
fi

# ---- sparse 8 GiB ----
if "$LBVM" mkdisk "$work/a" -o "$work/big.img" --size 8G 2>"$work/err"; then
	apparent=$(stat -c %s "$work/big.img")
	used_kib=$(du -k "$work/big.img" | cut -f1)
	if [ "$apparent" = 8589934592 ] && [ "$used_kib" -lt 65536 ]; then
		pass "sparse_8GiB (${used_kib} KiB on disk)"
	else
		fail sparse_8GiB "size $apparent, $used_kib KiB on disk"
	fi
	if "$LBVM" disk cat "$work/big.img" /etc/conf 2>/dev/null | grep -qx 'key=value'; then
		pass disk_cat_8GiB_image
	else
		fail disk_cat_8GiB_image "could not read /etc/conf back"
	fi
	rm -f "$work/big.img"
else
	fail sparse_8GiB "$(cat "$work/err")"
fi

# ---- reading back ----
listing() { # DIR -> path, type+mode, links, size (files), target; times and inode numbers left out
	(cd "$1" && find . -path ./lost+found -prune -o -printf '%p %M %n %s %l\n' | \
		awk '$2 ~ /^d/ { $4 = "-" } $1 == "." { $3 = "-" } { print }' | LC_ALL=C sort)
}
for img in repro_mkdisk_ext3_raw.a repro_mkdisk_ext2.a; do
	rm -rf "$work/got"
	if "$LBVM" disk get --keep-setid "$work/$img" / -o "$work/got" 2>"$work/err" &&
	   diff -r --no-dereference -x lost+found "$work/a" "$work/got" >/dev/null 2>&1 &&
	   [ "$(listing "$work/a")" = "$(listing "$work/got")" ]; then
		pass "disk_get_equals_input_tree ($img)"
	else
		fail "disk_get_equals_input_tree ($img)" "$(cat "$work/err") $(listing "$work/a" > "$work/l1"; listing "$work/got" > "$work/l2"; diff "$work/l1" "$work/l2" | head -4 | tr '\n' ' ')"
	fi
done
out=$("$LBVM" disk ls "$work/repro_mkdisk_ext4.a" /usr 2>&1)
want='-rwsr-xr-x 2 0 0 18 hello-again
lrwxrwxrwx 1 0 0 12 hello-link -> ../bin/hello
drwxr-xr-x 2 0 0 4096 src'
if [ "$out" = "$want" ]; then pass disk_ls; else fail disk_ls "$(echo "$out" | tr '\n' '|')"; fi
out=$("$LBVM" disk ls "$work/repro_mkdisk_ext4.a" /dev/console 2>&1)
if [ "$out" = "crw------- 1 0 5 5,1 /dev/console" ]; then pass disk_ls_device; else fail disk_ls_device "$out"; fi
if "$LBVM" disk cat "$work/repro_mkdisk_ext4.a" usr/src/big | cmp -s - "$work/a/usr/src/big"; then
	pass disk_cat
else
	fail disk_cat "content differs"
fi
rm -rf "$work/one"
if "$LBVM" disk get "$work/repro_mkdisk_ext4.a" /etc/conf -o "$work/one" && cmp -s "$work/one" "$work/a/etc/conf" &&
   [ "$(stat -c %a "$work/one")" = 640 ]; then
	pass disk_get_single_file
else
	fail disk_get_single_file "content or mode differs"
fi

# a damaged image whose directory links back to its ancestor: refused, not copied forever
if have debugfs && "$LBVM" mkdisk "$work/a" -o "$work/loop.img" --size 16M --raw --fs ext2 &&
   debugfs -w -R "link /usr /usr/src/up" "$work/loop.img" >/dev/null 2>&1; then
	"$LBVM" disk get "$work/loop.img" / -o "$work/loop-out" 2>"$work/err"
	rc=$?
	if [ "$rc" = 2 ] && grep -q 'usr/src/up: directory reached twice' "$work/err" && ! ls -d "$work"/loop-out* >/dev/null 2>&1; then
		pass disk_get_refuses_directory_loop
	else
		fail disk_get_refuses_directory_loop "exit $rc: $(cat "$work/err")"
	fi
else
	skip disk_get_refuses_directory_loop "debugfs (e2fsprogs) could not link a loop into a test image"
fi

# ---- failures: one line on stderr, exit 2, nothing under the final name ----
expect_fail() { # NAME OUTPUT_PATH_THAT_MUST_NOT_EXIST lbvm-args...
	name=$1
	out=$2
	shift 2
	"$LBVM" "$@" >/dev/null 2>"$work/err"
	rc=$?
	lines=$(wc -l < "$work/err")
	left=$(ls "$(dirname "$out")" 2>/dev/null | grep -c "^$(basename "$out")")
	if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -q '^lbvm: ' "$work/err" && [ "$left" = 0 ]; then
		pass "$name ($(cat "$work/err"))"
	else
		fail "$name" "exit $rc, $lines stderr lines, $left outputs left: $(cat "$work/err" | tr '\n' ' ')"
	fi
}
mkdir -p "$work/outs"
o=$work/outs/o
expect_fail fail_missing_dir_initramfs "$o" mkinitramfs "$work/nope" -o "$o"
expect_fail fail_missing_dir_mkdisk "$o" mkdisk "$work/nope" -o "$o" --size 16M
expect_fail fail_missing_spec "$o" mkinitramfs "$work/a" -o "$o" --spec "$work/nope.spec"
printf 'dir /dev 0755 0 0\nnod /dev/x 0600 0 0 c five 1\n' > "$work/bad.spec"
expect_fail fail_bad_spec "$o" mkdisk "$work/a" -o "$o" --size 16M --spec "$work/bad.spec"
expect_fail fail_too_small "$o" mkdisk "$work/a" -o "$o" --size 2M
head -c 6000000 /dev/zero > "$work/a-big" && mkdir -p "$work/c" && mv "$work/a-big" "$work/c/blob"
expect_fail fail_content_too_big "$o" mkdisk "$work/c" -o "$o" --size 6M --fs ext2
expect_fail fail_bad_size "$o" mkdisk "$work/a" -o "$o" --size 12Q
expect_fail fail_bad_fs "$o" mkdisk "$work/a" -o "$o" --size 16M --fs xfs
expect_fail fail_bad_offset "$o" mkdisk "$work/a" -o "$o" --size 16M --part-offset 100
expect_fail fail_bad_inode_ratio "$o" mkdisk "$work/a" -o "$o" --size 16M --inode-ratio 10
expect_fail fail_no_output_dir "$work/nodir/o" mkinitramfs "$work/a" -o "$work/nodir/o"
# a full output disk, as the kernel reports it to an ordinary process: RLIMIT_FSIZE (EFBIG)
(ulimit -f 200 && trap '' XFSZ && exec "$LBVM" mkinitramfs "$work/c" -o "$o") >/dev/null 2>"$work/err"
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l < "$work/err")" = 1 ] && [ -z "$(ls "$work/outs")" ]; then
	pass "fail_output_disk_full_initramfs ($(cat "$work/err"))"
else
	fail fail_output_disk_full_initramfs "exit $rc: $(cat "$work/err") left: $(ls "$work/outs")"
fi
(ulimit -f 200 && trap '' XFSZ && exec "$LBVM" mkdisk "$work/c" -o "$o" --size 64M) >/dev/null 2>"$work/err"
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l < "$work/err")" = 1 ] && [ -z "$(ls "$work/outs")" ]; then
	pass "fail_output_disk_full_mkdisk ($(cat "$work/err"))"
else
	fail fail_output_disk_full_mkdisk "exit $rc: $(cat "$work/err") left: $(ls "$work/outs")"
fi
if [ "$(id -u)" = 0 ]; then
	skip fail_unreadable_file "running as root, which reads any file; run the tests as an ordinary user to cover it"
else
	mkdir -p "$work/u" && echo secret > "$work/u/f" && chmod 000 "$work/u/f"
	expect_fail fail_unreadable_file "$o" mkdisk "$work/u" -o "$o" --size 16M
fi
expect_fail fail_disk_missing_path "$o" disk cat "$work/repro_mkdisk_ext4.a" /no/such
expect_fail fail_disk_not_an_image "$o" disk ls "$work/spec" /
mkdir -p "$work/exists"
expect_fail fail_disk_get_onto_existing "$work/exists.tmp" disk get "$work/repro_mkdisk_ext4.a" / -o "$work/exists"

# ---- the host kernel, where it may mount (root with loop devices): mount, write, unmount, e2fsck ----
kernel_mount() {
	part_of "$work/repro_mkdisk_ext4.a" 2048
	mkdir -p "$work/mnt"
	timeout 30 mount -o loop -t ext4 "$work/part.img" "$work/mnt" 2>"$work/err" || return 2
	ok=0
	diff -r --no-dereference -x lost+found -x dev "$work/a" "$work/mnt" >/dev/null 2>&1 &&
		[ "$(stat -c %t,%T "$work/mnt/dev/console")" = 5,1 ] &&
		mkdir "$work/mnt/new" && cp -r "$work/mnt/usr" "$work/mnt/new/" && ok=1
	umount "$work/mnt" || { fail kernel_mounts_disk "could not unmount $work/mnt"; return 1; }
	[ "$ok" = 1 ] && e2fsck -fn "$work/part.img" >/dev/null 2>&1
}
if [ "$(id -u)" != 0 ]; then
	skip kernel_mounts_disk "needs root for a loop mount; the in-guest test below is the rootless check"
else
	kernel_mount
	case $? in
	0) pass kernel_mounts_disk ;;
	2) skip kernel_mounts_disk "this host refuses loop mounts: $(cat "$work/err")" ;;
	*) fail kernel_mounts_disk "content differs after mount, or e2fsck unclean after the kernel wrote to it" ;;
	esac
fi

# ---- in the guest ----
