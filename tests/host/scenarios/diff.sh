# Issue 14, part 4: lbvm diff on real bootstrap runs. The synthetic current-layout tree runs twice in
# --chroot mode as an ordinary user (no nested VM: the test host's kernel runs the chain's i386
# programs); two runs of the same tree make the same packages (exit 0); two runs of a tree whose
# words-1.0 embeds its build time and a random number differ there first (exit 1), naming that package,
# its two hashes and the member that differs; a plain run against such a run shows the inputs that differ.
. /lbvm-tests/scenarios/lib.sh
T=/lbvm-tests/diff
BS_TIMEOUT=300
GUARD=$((BS_TIMEOUT + 60))
chmod 0755 "$WORK"
home=$WORK/diff-home
rm -rf "$home"
mkdir -p "$home/distfiles"
cp "$T"/tree/distfiles/* "$home/distfiles/"
chmod -R a+rwX "$home"

# chroot_run NAME TREE [ARGS]: lbvm bootstrap --chroot as nobody into $home/NAME; sets $rc
chroot_run() {
	name=$1 tree=$2
	shift 2
	t0=$(now)
	(cd "$home" && timeout -s KILL "$GUARD" lbvm-runas 65534 65534 "$LBVM" bootstrap --chroot --tree "$tree" \
		--distfiles "$home/distfiles" --offline --run-dir "$home/$name" --timeout $BS_TIMEOUT --quiet "$@" \
		</dev/null >"$WORK/diff-$name.log" 2>"$WORK/diff-$name.err")
	rc=$?
	echo "LBVM-TEST: INFO $current: run $name: exit $rc after $(echo "$(now) $t0" | awk '{ printf "%.1f", $1 - $2 }') s"
	[ "$rc" = 0 ] || { tail -n 20 "$WORK/diff-$name.err"; tail -n 20 "$home/$name/console.log" 2>/dev/null; }
}

# lbvm_diff NAME A B: lbvm diff (as nobody, copies in $home) into $WORK/NAME.out; sets $rc, prints it
lbvm_diff() {
	name=$1
	shift
	(cd "$home" && TMPDIR=$home timeout -s KILL 120 lbvm-runas 65534 65534 "$LBVM" diff "$@" \
		</dev/null >"$WORK/$name.out" 2>"$WORK/$name.err")
	rc=$?
	sed "s/^/LBVM-TEST: INFO $current: /" "$WORK/$name.out" "$WORK/$name.err"
}

begin diff-identical-runs
chroot_run same1 "$T/tree"
r1=$rc
chroot_run same2 "$T/tree"
r2=$rc
lbvm_diff same "$home/same1" "$home/same2"
if [ "$r1" != 0 ] || [ "$r2" != 0 ]; then
	fail "the runs failed (exit $r1, $r2)"
elif [ "$rc" != 0 ]; then
	fail "lbvm diff exit $rc, expected 0"
elif ! grep -q "^packages: 3 compared in the chain's order: all the same$" "$WORK/same.out" ||
	! grep -q "^inputs: the same" "$WORK/same.out"; then
	fail "the report does not say the same inputs and 3 packages the same"
else
	pass
fi

begin diff-unreproducible-package
chroot_run unrepro1 "$T/tree-unrepro" --update-checksums
r1=$rc
chroot_run unrepro2 "$T/tree-unrepro" --update-checksums
r2=$rc
lbvm_diff unrepro "$home/unrepro1" "$home/unrepro2"
h1=$(sha256sum "$home/unrepro1/target/external/repo/words-1.0_0.tar.bz2" 2>/dev/null | cut -d' ' -f1)
h2=$(sha256sum "$home/unrepro2/target/external/repo/words-1.0_0.tar.bz2" 2>/dev/null | cut -d' ' -f1)
if [ "$r1" != 0 ] || [ "$r2" != 0 ]; then
	fail "the runs failed (exit $r1, $r2)"
elif [ "$rc" != 1 ]; then
	fail "lbvm diff exit $rc, expected 1"
elif ! grep -q "^first difference: words-1.0_0.tar.bz2 (step [0-9]*, bash: words-1.0)$" "$WORK/unrepro.out"; then
	fail "words-1.0 is not named as the first difference"
elif [ -z "$h1" ] || ! grep -q "^  A: sha256 $h1 " "$WORK/unrepro.out" || ! grep -q "^  B: sha256 $h2 " "$WORK/unrepro.out"; then
	fail "the two hashes ($h1, $h2) are not the packages'"
elif ! grep -q "^    ./usr/share/words-1.0/build-stamp: content sha256 " "$WORK/unrepro.out" ||
	! grep -q "^  members that differ: 1 (" "$WORK/unrepro.out"; then
	fail "the differing member is not named (alone)"
elif ! grep -q "^packages: 3 compared in the chain's order: 2 the same, 1 differs$" "$WORK/unrepro.out" ||
	! grep -q "^later packages that also differ: none$" "$WORK/unrepro.out"; then
	fail "hello-1.0 and fetched-1.0 are not the same"
elif ! grep -q "^the bytes: diffoscope $home/lbvm-diff-.*/A/words-1.0_0.tar.bz2 $home/lbvm-diff-.*/B/words-1.0_0.tar.bz2$" "$WORK/unrepro.out"; then
	fail "no diffoscope command"
else
	a=$(sed -n 's/^the bytes: diffoscope \([^ ]*\) .*/\1/p' "$WORK/unrepro.out")
	if [ "$(sha256sum "$a" | cut -d' ' -f1)" = "$h1" ]; then pass; else fail "the copy $a is not A's package"; fi
fi

begin diff-other-inputs
lbvm_diff other "$home/same1" "$home/unrepro1"
if [ "$rc" != 1 ]; then
	fail "lbvm diff exit $rc, expected 1"
elif ! grep -q "^inputs: [0-9]* difference" "$WORK/other.out" ||
	! grep -q "^  bootstrap.cfg UPDATE_CHECKSUMS: False (A) vs True (B)$" "$WORK/other.out"; then
	fail "the inputs that differ are not reported"
elif ! grep -q "^first difference: words-1.0_0.tar.bz2" "$WORK/other.out"; then
	fail "words-1.0 is not the first difference"
else
	pass
fi
