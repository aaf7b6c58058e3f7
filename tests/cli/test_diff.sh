#!/bin/sh
# lbvm diff on run directories made here: disks built with lbvm mkdisk from folders holding the chain's
# /external/repo tarballs and steps/SHA256SUMS.pkgs, plus run.json records; chroot runs' target/ trees;
# a 2021 run (sysc disk, sysa initramfs). Identical runs exit 0; a package with another member exits 1
# naming it, its hashes and the member; later differences are listed as following from it; inputs that
# differ are reported; a missing disk, a damaged record or runs of two layouts exit 2 with one line.
# Prints PASS/FAIL/SKIP lines.
set -u
: "${LBVM:?set LBVM to the lbvm binary}"
work=$(mktemp -d /tmp/lbvm-diff-test-XXXXXX)
trap 'chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000 LC_ALL=C TZ=UTC TMPDIR=$work

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# pkg OUT DIR: a package as the chain packs one (sorted, owner 0:0, time 0, bzip2)
pkg() { tar -C "$2" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - . | bzip2 -9 >"$1"; }

# payload DIR WORDS FETCHED: the three packages' contents
payload() {
	d=$1
	mkdir -p "$d/hello/usr/share/hello" "$d/words/usr/share/words" "$d/words/usr/bin" "$d/fetched/usr/share/fetched"
	echo "hello" >"$d/hello/usr/share/hello/pass3.txt"
	printf '%s' "$2" >"$d/words/usr/share/words/words.txt"
	printf '#!/bin/sh\ncat /usr/share/words/words.txt\n' >"$d/words/usr/bin/words"
	chmod 755 "$d/words/usr/bin/words"
	printf '%s' "$3" >"$d/fetched/usr/share/fetched/fetched.txt"
}

# record RUN MODE [DISTFILE-HASH] [MEMORY] [WORDS-OUTCOME]: run.json of a current-layout run
record() {
	h=${3:-1111111111111111111111111111111111111111111111111111111111111111}
	cat >"$1/run.json" <<EOF
{
  "format": "lbvm-run/1",
  "lbvm_version": "0.1.0",
  "layout": "live-bootstrap (seed, steps)",
  "tree": "/somewhere/tree",
  "started": "2026-11-30T00:00:00Z",
  "inputs": {
    "distfile words-1.0.tar.gz": {"value": "words-1.0.tar.gz", "sha256": "$h"}
  },
  "options": {
    "mode": "$2",
    "distfiles": "$1/cache",
    "offline": "true"
  },
  "machine": {
    "memory_mib": "${4:-4096}"
  },
  "steps": [
    {"index": 1, "stage": "kaem", "name": "stage0-posix", "package": null, "distfiles": [], "outcome": "ok"},
    {"index": 2, "stage": "kaem", "name": "bash-1.0", "package": "bash-1.0", "distfiles": [], "outcome": "ok"},
    {"index": 3, "stage": "bash", "name": "setup_repo", "package": null, "distfiles": [], "outcome": "ok"},
    {"index": 4, "stage": "bash", "name": "hello-1.0", "package": "hello-1.0", "distfiles": [], "outcome": "ok"},
    {"index": 5, "stage": "bash", "name": "words-1.0", "package": "words-1.0", "distfiles": [], "outcome": "${5:-ok}"},
    {"index": 6, "stage": "bash", "name": "fetched-1.0", "package": "fetched-1.0", "distfiles": [], "outcome": "ok"},
    {"index": 7, "stage": "bash", "name": "after", "package": null, "distfiles": [], "outcome": "ok"}
  ],
  "steps_done": 7,
  "steps_total": 7,
  "end": {"exit_status": 0, "outcome": "completed", "detail": "", "duration": 1.000, "report": null}
}
EOF
	printf 'ARCH=x86\nUPDATE_CHECKSUMS=False\nJOBS=2\n' >"$1/bootstrap.cfg"
}

# system DIR WORDS FETCHED: the run's system (its /external/repo and /steps/SHA256SUMS.pkgs)
system() {
	payload "$work/payload.$$" "$2" "$3"
	mkdir -p "$1/external/repo" "$1/steps"
	for p in hello words fetched; do
		pkg "$1/external/repo/$p-1.0_0.tar.bz2" "$work/payload.$$/$p"
	done
	rm -rf "$work/payload.$$"
	# the tree's expected hashes: those of the first run made (A), the same file in every run
	[ -f "$work/SHA256SUMS.pkgs" ] ||
		(cd "$1/external/repo" && sha256sum hello-1.0_0.tar.bz2 words-1.0_0.tar.bz2 fetched-1.0_0.tar.bz2) \
			>"$work/SHA256SUMS.pkgs"
	cp "$work/SHA256SUMS.pkgs" "$1/steps/SHA256SUMS.pkgs"
}

# vm_run NAME WORDS FETCHED [record args...]: a VM run (its disk made by lbvm mkdisk)
vm_run() {
	r=$work/$1
	mkdir -p "$r"
	system "$work/$1.sys" "$2" "$3"
	"$LBVM" mkdisk "$work/$1.sys" -o "$r/disk.img" --size 16M -t ext3 >/dev/null 2>&1 || echo "mkdisk failed for $1"
	shift 3
	record "$r" vm "$@"
}

# chroot_run NAME WORDS FETCHED: a --chroot run (its system in target/)
chroot_run() {
	r=$work/$1
	mkdir -p "$r"
	system "$r/target" "$2" "$3"
	record "$r" chroot
}

# diff NAME ARGS...: lbvm diff; $rc, $work/NAME.out, $work/NAME.err
diff_() {
	name=$1
	shift
	timeout 120 "$LBVM" diff "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null
	rc=$?
}
has() { grep -q -- "$2" "$work/$1.out"; }
show() { echo "exit $rc; stdout: $(cat "$work/$1.out"); stderr: $(cat "$work/$1.err")"; }
one_line() { [ "$(wc -l <"$work/$1.err")" -eq 1 ] && grep -q "^lbvm: diff: $2" "$work/$1.err"; }

WORDS='apple
mango
zebra
'
vm_run A "$WORDS" "fetched"
vm_run B "$WORDS" "fetched"

# --- the same packages
diff_ same -n "$work/A" "$work/B"
if [ $rc -eq 0 ] && has same "^packages: 3 compared in the chain's order: all the same$" &&
	has same "^layout: live-bootstrap (seed, steps)$" && has same "^inputs: the same (lbvm 0.1.0; 1 input with its SHA-256" && has same "^A: $work/A (VM run, completed: 7 of 7 steps ok)$" &&
	[ ! -s "$work/same.err" ]; then
	pass identical_runs_exit_0
else
	fail identical_runs_exit_0 "$(show same)"
fi

# --- one package with another member
vm_run C "$WORDS
extra
" "fetched"
diff_ member -n --out "$work/member-bytes" "$work/A" "$work/C"
hA=$(sha "$work/A.sys/external/repo/words-1.0_0.tar.bz2")
hC=$(sha "$work/C.sys/external/repo/words-1.0_0.tar.bz2")
if [ $rc -eq 1 ] && has member "^first difference: words-1.0_0.tar.bz2 (step 5, bash: words-1.0)$" &&
	has member "^  A: sha256 $hA  (matches its SHA256SUMS.pkgs)$" &&
	has member "^  B: sha256 $hC  (its SHA256SUMS.pkgs has another hash)$" &&
	has member "^  members that differ: 1 (6 the same):$" &&
	has member "^    ./usr/share/words/words.txt: content sha256 [0-9a-f]* vs [0-9a-f]*; size 18 vs 25$" &&
	has member "^packages: 3 compared in the chain's order: 2 the same, 1 differs$" &&
	has member "^later packages that also differ: none$" &&
	has member "^the bytes: diffoscope $work/member-bytes/A/words-1.0_0.tar.bz2 $work/member-bytes/B/words-1.0_0.tar.bz2$" &&
	[ "$(sha "$work/member-bytes/A/words-1.0_0.tar.bz2")" = "$hA" ] &&
	[ "$(sha "$work/member-bytes/B/words-1.0_0.tar.bz2")" = "$hC" ] && ! has member "running diffoscope"; then
	pass one_member_differs_exit_1
else
	fail one_member_differs_exit_1 "$(show member)"
fi

# --- a later package differs too: listed as what may follow
vm_run D "$WORDS
extra
" "fetched again"
diff_ later -n "$work/A" "$work/D"
hFA=$(sha "$work/A.sys/external/repo/fetched-1.0_0.tar.bz2")
hFD=$(sha "$work/D.sys/external/repo/fetched-1.0_0.tar.bz2")
if [ $rc -eq 1 ] && has later "^first difference: words-1.0_0.tar.bz2" &&
	has later "^later packages that also differ (1; they may follow from the first):$" &&
	has later "^  fetched-1.0_0.tar.bz2 (step 6, bash: fetched-1.0): $hFA vs $hFD$" &&
	has later "^packages: 3 compared in the chain's order: 1 the same, 2 differ$"; then
	pass later_difference_may_follow
else
	fail later_difference_may_follow "$(show later)"
fi

# --- diffoscope shows the bytes (the default when it is installed)
if command -v diffoscope >/dev/null 2>&1; then
	diff_ scope --out "$work/scope-bytes" "$work/A" "$work/C"
	if [ $rc -eq 1 ] && has scope "^running diffoscope:$" && has scope "^--- $work/scope-bytes/A/words-1.0_0.tar.bz2" &&
		has scope "^+++ $work/scope-bytes/B/words-1.0_0.tar.bz2" && has scope "extra"; then
		pass diffoscope_runs_on_the_copies
	else
		fail diffoscope_runs_on_the_copies "$(show scope)"
	fi
else
	skip diffoscope_runs_on_the_copies "diffoscope is not installed (tests/deps/debian-packages.txt has diffoscope-minimal)"
fi
PATH=/nonexistent "$LBVM" diff --out "$work/nodiffoscope" "$work/A" "$work/C" >"$work/nodiffoscope.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^diffoscope is not installed (Debian: diffoscope-minimal or diffoscope): run the command above once it is$" "$work/nodiffoscope.out"; then
	pass without_diffoscope_says_so
else
	fail without_diffoscope_says_so "exit $rc: $(cat "$work/nodiffoscope.out")"
fi

# --- inputs that differ are reported; the same packages still exit 0
vm_run E "$WORDS" "fetched" 2222222222222222222222222222222222222222222222222222222222222222 8192
sed -i 's/JOBS=2/JOBS=4/' "$work/E/bootstrap.cfg"
diff_ inputs -n "$work/A" "$work/E"
if [ $rc -eq 0 ] && has inputs "^inputs: 3 differences (runs of other inputs are expected to give other outputs" &&
	has inputs "^  input distfile words-1.0.tar.gz: 1111111111111111111111111111111111111111111111111111111111111111 (A) vs 2222222222222222222222222222222222222222222222222222222222222222 (B)$" &&
	has inputs "^  machine memory_mib: 4096 (A) vs 8192 (B)$" && has inputs "^  bootstrap.cfg JOBS: 2 (A) vs 4 (B)$" &&
	! has inputs "option distfiles" && has inputs "all the same$"; then
	pass differing_inputs_reported
else
	fail differing_inputs_reported "$(show inputs)"
fi

# --- a run that stopped before a package: it is not made there
vm_run F "$WORDS" "fetched" "" "" failed
rm -rf "$work/F.sys/external/repo/words-1.0_0.tar.bz2" "$work/F.sys/external/repo/fetched-1.0_0.tar.bz2"
rm "$work/F/disk.img"
"$LBVM" mkdisk "$work/F.sys" -o "$work/F/disk.img" --size 16M -t ext3 >/dev/null 2>&1
diff_ stopped -n "$work/A" "$work/F"
if [ $rc -eq 1 ] && has stopped "^first difference: words-1.0_0.tar.bz2" && has stopped "^  B: missing (its step's outcome: failed)$" &&
	has stopped "^  fetched-1.0_0.tar.bz2 (step 6, bash: fetched-1.0): only in A$" &&
	has stopped "^the bytes: only A has it: "; then
	pass package_missing_in_one_run
else
	fail package_missing_in_one_run "$(show stopped)"
fi

# --- a damaged package is a finding, not trouble
vm_run G "$WORDS" "fetched"
echo "not a tarball" >"$work/G.sys/external/repo/words-1.0_0.tar.bz2"
rm "$work/G/disk.img"
"$LBVM" mkdisk "$work/G.sys" -o "$work/G/disk.img" --size 16M -t ext3 >/dev/null 2>&1
diff_ damaged -n "$work/A" "$work/G"
if [ $rc -eq 1 ] && has damaged "^  B's package cannot be read as an archive: /external/repo/words-1.0_0.tar.bz2: not a readable archive"; then
	pass damaged_package_reported
else
	fail damaged_package_reported "$(show damaged)"
fi

# --- chroot runs: trees, and links that point out of them are not followed out
chroot_run H "$WORDS" "fetched"
chroot_run I "$WORDS
extra
" "fetched"
diff_ chroot -n "$work/H" "$work/I"
if [ $rc -eq 1 ] && has chroot "^A: $work/H (chroot run" && has chroot "^first difference: words-1.0_0.tar.bz2" &&
	has chroot "words.txt: content sha256"; then
	pass chroot_runs_compared
else
	fail chroot_runs_compared "$(show chroot)"
fi
rm "$work/I/target/external/repo/hello-1.0_0.tar.bz2"
ln -s /etc/passwd "$work/I/target/external/repo/hello-1.0_0.tar.bz2"
diff_ escape -n "$work/H" "$work/I"
if [ $rc -eq 1 ] && has escape "^first difference: hello-1.0_0.tar.bz2" && has escape "^  B: missing (its step's outcome: ok)$"; then
	pass chroot_link_out_of_the_tree_not_followed
else
	fail chroot_link_out_of_the_tree_not_followed "$(show escape)"
fi

# --- trouble: one line, exit 2
rm "$work/B/disk.img"
diff_ nodisk -n "$work/A" "$work/B"
if [ $rc -eq 2 ] && one_line nodisk "$work/B/disk.img: No such file or directory (a VM run keeps its disk there)$"; then
	pass missing_disk_exit_2
else
	fail missing_disk_exit_2 "$(show nodisk)"
fi
head -c 300 "$work/C/run.json" >"$work/C/run.json.cut" && mv "$work/C/run.json.cut" "$work/C/run.json"
diff_ garbled -n "$work/A" "$work/C"
if [ $rc -eq 2 ] && one_line garbled "$work/C/run.json: ends early (the record is cut short)$"; then
	pass garbled_record_exit_2
else
	fail garbled_record_exit_2 "$(show garbled)"
fi
sed 's/"memory_mib": "4096"/"memory_mib": 4096/' "$work/A/run.json" >"$work/D/run.json"
diff_ badtype -n "$work/A" "$work/D"
if [ $rc -eq 2 ] && one_line badtype "$work/D/run.json: machine.\"memory_mib\" must be a string$"; then
	pass bad_type_exit_2
else
	fail bad_type_exit_2 "$(show badtype)"
fi
diff_ norecord -n "$work/A" "$work/nowhere"
if [ $rc -eq 2 ] && one_line norecord "$work/nowhere: No such file or directory$"; then
	pass missing_run_exit_2
else
	fail missing_run_exit_2 "$(show norecord)"
fi
diff_ args "$work/A"
rc1=$rc
diff_ args2 --frobnicate "$work/A" "$work/E"
rc2=$rc
mkdir -p "$work/full" && : >"$work/full/x"
if [ $rc1 -eq 2 ] && one_line args "expected two run directories" && [ $rc2 -eq 2 ] &&
	grep -q "^lbvm: diff: unknown option '--frobnicate'" "$work/args2.err"; then
	pass bad_arguments_exit_2
else
	fail bad_arguments_exit_2 "exit $rc1/$rc2: $(cat "$work/args.err" "$work/args2.err")"
fi
vm_run J "$WORDS
extra
" "fetched"
diff_ outfull -n --out "$work/full" "$work/A" "$work/J"
if [ $rc -eq 2 ] && one_line outfull "--out '$work/full': .* (it must be new or empty)$"; then
	pass out_not_empty_exit_2
else
	fail out_not_empty_exit_2 "$(show outfull)"
fi

# --- the 2021 layout: sysc's disk and sysa's initramfs, compared through the packages' checksums lists
run2021() {
	r=$work/$1
	mkdir -p "$r" "$work/$1.sysc/usr/src/xz-5.0.5" "$work/$1.sysc/usr/share/xz" "$work/$1.sysc/usr/bin" \
		"$work/$1.sysa/after/mes"
	echo "$2" >"$work/$1.sysc/usr/share/xz/marker"
	echo "busybox" >"$work/$1.sysc/usr/bin/busybox"
	echo "$(sha256sum <"$work/$1.sysc/usr/share/xz/marker" | cut -d' ' -f1)  /usr/share/xz/marker" \
		>"$work/$1.sysc/usr/src/xz-5.0.5/checksums"
	echo "$(sha256sum <"$work/$1.sysc/usr/bin/busybox" | cut -d' ' -f1)  /usr/bin/busybox" \
		>"$work/$1.sysa/after/mes/checksums"
	"$LBVM" mkdisk "$work/$1.sysc" -o "$r/sysc-disk.img" --size 16M >/dev/null 2>&1
	"$LBVM" mkinitramfs "$work/$1.sysa" -o "$r/sysa-initramfs.cpio" >/dev/null 2>&1
	cat >"$r/run.json" <<EOF
{"format": "lbvm-run/1", "lbvm_version": "0.1.0", "layout": "live-bootstrap 2021 (sysa, sysb, sysc)",
 "tree": "t", "started": "s", "inputs": {}, "options": {"mode": "vm"}, "machine": {},
 "steps": [{"index": 1, "stage": "sysa", "name": "stage0-posix", "package": null, "outcome": "ok"},
           {"index": 2, "stage": "sysa", "name": "mes", "package": "mes", "outcome": "ok"},
           {"index": 3, "stage": "sysb", "name": "sysb", "package": null, "outcome": "ok"},
           {"index": 4, "stage": "sysc", "name": "xz-5.0.5", "package": "xz-5.0.5", "outcome": "ok"}],
 "end": null}
EOF
}
run2021 K "xz 5.0.5 stand-in"
run2021 L "xz 5.0.5 stand-in, built at 1700000001"
diff_ y2021 -n --out "$work/bytes2021" "$work/K" "$work/L"
mA=$(sha "$work/K.sysc/usr/share/xz/marker")
mB=$(sha "$work/L.sysc/usr/share/xz/marker")
if [ $rc -eq 1 ] && has y2021 "^A: $work/K (VM run, did not end: 4 of 4 steps ok)$" &&
	has y2021 "^packages: 2 compared in the chain's order: 1 the same, 1 differs$" &&
	has y2021 "^first difference: sysc/xz-5.0.5 (step 4, sysc: xz-5.0.5)$" &&
	has y2021 "^    /usr/share/xz/marker: sha256 $mA vs $mB$" &&
	has y2021 "^the bytes: diffoscope $work/bytes2021/A $work/bytes2021/B$" &&
	cmp -s "$work/bytes2021/B/usr/share/xz/marker" "$work/L.sysc/usr/share/xz/marker"; then
	pass layout_2021_vm_runs
else
	fail layout_2021_vm_runs "$(show y2021)"
fi
diff_ layouts -n "$work/A" "$work/K"
if [ $rc -eq 2 ] && one_line layouts "the runs are of different layouts"; then
	pass different_layouts_exit_2
else
	fail different_layouts_exit_2 "$(show layouts)"
fi

# --- the 2021 layout in --chroot runs: sysc/ and sysa/ trees
chroot2021() {
	r=$work/$1
	mkdir -p "$r/sysc/usr/src/xz-5.0.5" "$r/sysc/usr/share/xz" "$r/sysa/after/mes/checksums" "$r/sysa/usr/bin"
	echo "$2" >"$r/sysc/usr/share/xz/marker"
	echo "$(sha256sum <"$r/sysc/usr/share/xz/marker" | cut -d' ' -f1)  /usr/share/xz/marker" \
		>"$r/sysc/usr/src/xz-5.0.5/checksums"
	echo "$3" >"$r/sysa/usr/bin/mes"
	echo "$(sha256sum <"$r/sysa/usr/bin/mes" | cut -d' ' -f1)  /usr/bin/mes" >"$r/sysa/after/mes/checksums/pass1"
	sed 's/"mode": "vm"/"mode": "chroot"/' "$work/K/run.json" >"$r/run.json"
}
chroot2021 M "xz" "mes"
chroot2021 N "xz" "mes, other"
diff_ c2021 -n "$work/M" "$work/N"
if [ $rc -eq 1 ] && has c2021 "^first difference: sysa/mes (step 2, sysa: mes)$" &&
	has c2021 "^    /usr/bin/mes: sha256 " && has c2021 "^packages: 2 compared in the chain's order: 1 the same, 1 differs$"; then
	pass layout_2021_chroot_runs
else
	fail layout_2021_chroot_runs "$(show c2021)"
fi
