#!/bin/sh
# lbvm bootstrap without a VM: recognizing trees, the plan, distfile checks, and byte-identical images from
# two checkouts of one tree made under different umasks, mtimes and file order. (Running the chain needs
# KVM: the test host's suite "bootstrap" does that.) Prints PASS/FAIL/SKIP lines.
set -u
: "${LBVM:?set LBVM to the lbvm binary}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/lbvm-bootstrap-XXXXXX)
trap 'chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000 LC_ALL=C

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

cache=$("$root/tests/host/fixtures.sh") || { fail fixtures "tests/host/fixtures.sh failed: the tests cannot run without their fixtures"; exit 1; }
tree=$work/tree
dist=$work/dist
"$root/tests/bootstrap/make-2021-tree.sh" "$cache" "$tree" "$dist" >/dev/null ||
	{ fail make_tree "tests/bootstrap/make-2021-tree.sh failed"; exit 1; }

# run NAME ARGS...: lbvm bootstrap; $rc, $work/NAME.out, $work/NAME.err
run() {
	name=$1
	shift
	timeout 120 "$LBVM" bootstrap "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null
	rc=$?
}

# --- the plan is read from the tree's own scripts
run plan --tree "$tree" --distfiles "$dist" --plan
if [ $rc -eq 0 ] && grep -q '^# live-bootstrap 2021 (sysa, sysb, sysc): 11 steps (8 builds, 0 improves, 2 jumps, 1 scripts)$' "$work/plan.out" &&
	grep -q '^   8 sysa   jump    kexec into sysb$' "$work/plan.out" && grep -q '^  11 sysc   build   xz-5.0.5$' "$work/plan.out" &&
	grep -q '^                 linux-4.9.10.tar.gz  verified$' "$work/plan.out" &&
	grep -q '^   5 sysa   build   mes-0.23 mes-libc-0.23$' "$work/plan.out"; then
	pass plan_lists_the_chain
else
	fail plan_lists_the_chain "exit $rc: $(head -n 20 "$work/plan.out" "$work/plan.err")"
fi
run plan-chroot --tree "$tree" --distfiles "$dist" --plan --chroot
if [ $rc -eq 0 ] && grep -q ': 7 steps (' "$work/plan-chroot.out" && ! grep -q 'kexec' "$work/plan-chroot.out"; then
	pass plan_chroot_skips_sysb_and_kernel
else
	fail plan_chroot_skips_sysb_and_kernel "exit $rc: $(cat "$work/plan-chroot.out")"
fi
run until --tree "$tree" --distfiles "$dist" --plan --until tcc-0.9.26
if [ $rc -eq 0 ] && grep -q '^   4 sysa   build   flex-2.5.11  (after --until: not run)$' "$work/until.out"; then
	pass plan_until
else
	fail plan_until "exit $rc: $(cat "$work/until.out" "$work/until.err")"
fi
run until-bad --tree "$tree" --distfiles "$dist" --plan --until no-such-step
if [ $rc -eq 2 ] && grep -q "^lbvm: --until 'no-such-step': no such step" "$work/until-bad.err" &&
	[ "$(wc -l <"$work/until-bad.err")" -eq 1 ]; then
	pass until_unknown_step
else
	fail until_unknown_step "exit $rc: $(cat "$work/until-bad.err")"
fi

# --- trees lbvm cannot run: one line each, exit 2, nothing made
expect_tree() { # NAME TREE PATTERN
	run "$1" --tree "$2" --distfiles "$dist" --run-dir "$work/$1.run"
	if [ $rc -eq 2 ] && grep -q -- "$3" "$work/$1.err" && [ "$(wc -l <"$work/$1.err")" -eq 1 ] && [ ! -e "$work/$1.run" ]; then
		pass "$1"
	else
		fail "$1" "exit $rc: $(cat "$work/$1.err")"
	fi
}
expect_tree not_a_tree "$work" "is not a live-bootstrap tree"
expect_tree no_such_tree "$work/nothing" "No such file or directory"
cp -a "$tree" "$work/nosub"
rm -rf "$work/nosub/sysa/stage0-posix/src" && mkdir "$work/nosub/sysa/stage0-posix/src"
expect_tree submodules_not_checked_out "$work/nosub" "the stage0-posix submodule is not checked out"
cp -a "$tree" "$work/noseed"
rm -rf "$work/noseed/sysa/stage0-posix/src/M2libc"/*
expect_tree nested_submodules_not_checked_out "$work/noseed" "stage0-posix's own submodules are not checked out"
mkdir -p "$work/newer/sysa" "$work/newer/steps"
expect_tree unknown_layout "$work/newer" "a live-bootstrap layout lbvm does not know yet"
cp -a "$tree" "$work/broken"
rm -rf "$work/broken/sysa/flex-2.5.11"
run broken --tree "$work/broken" --distfiles "$dist" --run-dir "$work/broken.run" --assemble-only
if [ $rc -eq 2 ] && grep -q "the chain builds flex-2.5.11 but sysa/flex-2.5.11 is not a folder" "$work/broken.err"; then
	pass broken_tree_package_folder_missing
else
	fail broken_tree_package_folder_missing "exit $rc: $(cat "$work/broken.err")"
fi
cp -a "$tree" "$work/badif"
printf 'if [ -e /x ]; then\nbuild foo\nfi\n' >>"$work/badif/sysa/run.sh"
run badif --tree "$work/badif" --distfiles "$dist" --plan
if [ $rc -eq 2 ] && grep -q "run.sh:[0-9]*: an 'if' lbvm cannot evaluate" "$work/badif.err"; then
	pass unreadable_script_condition
else
	fail unreadable_script_condition "exit $rc: $(cat "$work/badif.err")"
fi

# --- the seed kernel is checked first (before any download), then the distfiles: the tree's hash list is
# the authority; what is missing is listed before anything boots
run nokernel --tree "$tree" --distfiles "$work/empty" --offline --run-dir "$work/nokernel.run"
if [ $rc -eq 2 ] && grep -q "^lbvm: kernel '.*/tree/kernel': No such file or directory (give one with --kernel FILE" "$work/nokernel.err"; then
	pass default_seed_kernel_is_the_trees
else
	fail default_seed_kernel_is_the_trees "exit $rc: $(cat "$work/nokernel.err")"
fi
mkdir -p "$work/empty"
kernel=$(ls "$cache"/i386/boot/vmlinuz-* | head -n1)
run missing --tree "$tree" --kernel "$kernel" --distfiles "$work/empty" --offline --run-dir "$work/missing.run"
if [ $rc -eq 7 ] && grep -q "^lbvm: missing distfile mes.tar.gz (package mes, " "$work/missing.err" &&
	grep -q "11 distfiles this run needs are not verified in the cache (--offline) (nothing was booted)" "$work/missing.err" &&
	[ ! -e "$work/missing.run" ]; then
	pass missing_distfiles_listed_before_boot
else
	fail missing_distfiles_listed_before_boot "exit $rc: $(cat "$work/missing.err")"
fi
run until-needs --tree "$tree" --distfiles "$work/empty" --offline --run-dir "$work/until-needs.run" \
	--until stage0-posix --assemble-only
if [ $rc -eq 0 ] && [ -f "$work/until-needs.run/sysa-initramfs.cpio" ]; then
	pass until_needs_only_earlier_distfiles
else
	fail until_needs_only_earlier_distfiles "exit $rc: $(cat "$work/until-needs.err")"
fi
cp -a "$dist" "$work/baddist"
echo tampered >>"$work/baddist/tcc-0.9.26.tar.gz"
run bad --tree "$tree" --kernel "$kernel" --distfiles "$work/baddist" --offline --run-dir "$work/bad.run"
if [ $rc -eq 7 ] && grep -q "^lbvm: bad distfile tcc-0.9.26.tar.gz" "$work/bad.err" && grep -q "SHA-256 mismatch" "$work/bad.err"; then
	pass tampered_distfile_refused
else
	fail tampered_distfile_refused "exit $rc: $(cat "$work/bad.err")"
fi
# --- SIGTERM while a distfile is downloading (a loopback server that stalls): exit 6, no run directory,
# the partial download kept for a resume
srv=$work/srv
mkdir -p "$srv"
cp "$dist/mes.tar.gz" "$srv/"
python3 "$here/httpd.py" --root "$srv" --portfile "$work/port" --log "$work/httpd.log" --lifetime 120 &
httpd=$!
i=0
while [ ! -s "$work/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p "$work/slowcache"
timeout 60 "$LBVM" bootstrap --tree "$tree" --kernel "$kernel" --distfiles "$work/slowcache" \
	--mirror "http://127.0.0.1:$(cat "$work/port")/stall" --run-dir "$work/term.run" </dev/null >/dev/null 2>"$work/term.err" &
pid=$!
i=0
while ! grep -q "127.0.0.1" "$work/httpd.log" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -TERM $pid
wait $pid
rc=$?
kill $httpd 2>/dev/null
if [ $rc -eq 6 ] && grep -q "stopped by the user (signal Terminated) while fetching distfiles" "$work/term.err" &&
	[ ! -e "$work/term.run" ] && ls "$work/slowcache/.partial/" 2>/dev/null | grep -q .; then
	pass sigterm_while_fetching
else
	fail sigterm_while_fetching "exit $rc: $(cat "$work/term.err"); partial: $(ls "$work/slowcache/.partial/" 2>&1)"
fi

mkdir -p "$work/full.run" && : >"$work/full.run/something"
run full --tree "$tree" --distfiles "$dist" --run-dir "$work/full.run" --assemble-only
if [ $rc -eq 2 ] && grep -q "is not empty" "$work/full.err"; then
	pass run_dir_must_be_new
else
	fail run_dir_must_be_new "exit $rc: $(cat "$work/full.err")"
fi

# --- the same tree from two checkouts: umask 022 vs 077, other mtimes, files created in another order
copy_tree() { # SRC DST UMASK ORDER
	(umask "$3"
	 mkdir -p "$2"
	 if [ "$4" = 1 ]; then list=$(cd "$1" && find . -mindepth 1 | sort); else list=$(cd "$1" && find . -mindepth 1 | sort -r); fi
	 for p in $list; do [ -d "$1/$p" ] && mkdir -p "$2/$p"; done
	 for p in $list; do
		[ -f "$1/$p" ] || continue
		mkdir -p "$(dirname "$2/$p")"
		cat "$1/$p" >"$2/$p"
		[ -x "$1/$p" ] && chmod u+x,g+x,o+x "$2/$p" && chmod "$(printf '%o' $((0777 & ~0$3)))" "$2/$p"
	 done
	 find "$2" -exec touch -d "@$5" {} +)
}
copy_tree "$tree" "$work/co1" 022 1 1000000000
copy_tree "$tree" "$work/co2" 077 2 1500000000
ok=1
for n in 1 2; do
	run "asm$n" --tree "$work/co$n" --distfiles "$dist" --offline --run-dir "$work/asm$n" --assemble-only --disk-size 256M || true
	[ $rc -eq 0 ] || { ok=0; fail identical_images_from_two_checkouts "assembly $n: exit $rc: $(cat "$work/asm$n.err")"; }
done
if [ $ok = 1 ]; then
	a1=$(sha256sum <"$work/asm1/sysa-initramfs.cpio") a2=$(sha256sum <"$work/asm2/sysa-initramfs.cpio")
	d1=$(sha256sum <"$work/asm1/sysc-disk.img") d2=$(sha256sum <"$work/asm2/sysc-disk.img")
	perm1=$(stat -c %a "$work/co1/sysb/init") perm2=$(stat -c %a "$work/co2/sysb/init")
	if [ "$a1" = "$a2" ] && [ "$d1" = "$d2" ] && [ "$perm1" != "$perm2" ]; then
		echo "INFO initramfs sha256 ${a1%% *}, disk sha256 ${d1%% *} (checkout modes $perm1 vs $perm2)"
		pass identical_images_from_two_checkouts
	else
		fail identical_images_from_two_checkouts "initramfs $a1 vs $a2, disk $d1 vs $d2 (modes $perm1 $perm2)"
	fi
	# The 2021 layout, as the harness made it.
	list=$(cpio -it <"$work/asm1/sysa-initramfs.cpio" 2>/dev/null)
	missing=
	for p in init after.kaem bin x86.answers kaem.run M2-Planet/README bootstrap-seeds/POSIX/x86/kaem-optional-seed \
		after/run.sh after/helpers.sh after/bootstrap.cfg after/SHA256SUMS.sources after/mes/mes.kaem \
		after/mes/src/mes.tar.gz after/mes/src/nyacc-1.00.2.tar.gz after/linux-4.9.10/src/deblob-check \
		sysb/init sysb/usr/src/run.sh sysb/usr/src/bootstrap.cfg sysb/usr/src/helpers.sh; do
		echo "$list" | grep -qx "$p" || missing="$missing $p"
	done
	cfg=$(cpio -i --to-stdout after/bootstrap.cfg <"$work/asm1/sysa-initramfs.cpio" 2>/dev/null)
	if [ -z "$missing" ] && [ "$cfg" = "$(printf 'FORCE_TIMESTAMPS=False\nCHROOT=False\nDISK=sda1')" ] &&
		! echo "$list" | grep -q '\.git'; then
		pass sysa_initramfs_layout
	else
		fail sysa_initramfs_layout "missing:$missing; cfg '$cfg'"
	fi
	ls=$("$LBVM" disk ls "$work/asm1/sysc-disk.img" /usr/src 2>&1)
	part=$(sfdisk -d "$work/asm1/sysc-disk.img" 2>/dev/null | grep 'start=')
	if echo "$ls" | grep -q ' run2.sh$' && echo "$ls" | grep -q ' xz-5.0.5$' && "$LBVM" disk cat "$work/asm1/sysc-disk.img" \
		/usr/src/xz-5.0.5/src/xz-5.0.5.tar.bz2 | cmp -s - "$dist/xz-5.0.5.tar.bz2" &&
		echo "$part" | grep -q 'start= *2048' && echo "$part" | grep -q 'type=83'; then
		pass sysc_disk_layout
	else
		fail sysc_disk_layout "$ls / $part"
	fi
fi
