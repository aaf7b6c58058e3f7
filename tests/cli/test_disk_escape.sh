#!/bin/sh
# `lbvm disk get` on an image a hostile guest could have written: an ext2 image made by `lbvm mkdisk`,
# then patched byte by byte where a directory block holds a name (no checksums on ext2), so that entries
# are named "../../pwned1" (climbs out), "lnk/pwned2" through a symlink "lnk" that points outside,
# "lnk/pwned3" (a second name of a file that is hard-linked inside the tree) and a second ".." (which
# the reader skips like every ".." entry; tests/unit/test_tree_extract.c sends one to the writer). Beside
# them: a device node and a FIFO (spec file), a set-uid file, a name with terminal escape sequences.
# The copy must create nothing outside its destination, refuse and report each hostile entry (one line
# each, control characters escaped), drop the set-uid bit unless --keep-setid, and still copy the rest.
# Also: the image is share-locked while it is read, and the reader's sandbox stops a forbidden call.
# Prints PASS/FAIL/SKIP lines (tests/cli/run.sh totals them).
set -u
: "${LBVM:?set LBVM to the lbvm binary}"
work=$(mktemp -d /tmp/lbvm-escape-XXXXXX)
trap 'chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

esc=$(printf '\033')
outside=$work/outside
mkdir -p "$outside" "$work/tree/keep" "$work/x" "$work/m"
m=$work/m # this script's own files, left out of the comparison
echo untouched > "$outside/sentinel"
t=$work/tree
echo kept > "$t/keep/file"
printf '#!/bin/sh\n' > "$t/setuid" && chmod 4755 "$t/setuid"
echo pwned > "$t/..X..Xpwned1"       # becomes ../../pwned1
ln -s "$outside" "$t/lnk"             # a symlink out of the tree
echo pwned > "$t/lnkXpwned2"         # becomes lnk/pwned2
echo linked > "$t/inside-hl"
ln "$t/inside-hl" "$t/lnkXpwned3"    # becomes lnk/pwned3, another name of inside-hl
echo dots > "$t/QQ"                  # becomes a second ".."
echo colour > "$t/esc${esc}[31mred"
cat > "$work/spec" <<'SPEC'
dir /dev 0755 0 0
nod /dev/console 0600 0 5 c 5 1
pipe /fifo 0644 0 0
SPEC

patch_name() { # IMAGE PLACEHOLDER REPLACEMENT (same length): every occurrence in the image
	offs=$(grep -obUa -- "$2" "$1" | cut -d: -f1)
	[ -n "$offs" ] || return 1
	for off in $offs; do
		printf '%s' "$3" | dd of="$1" bs=1 seek="$off" conv=notrunc status=none || return 1
	done
}

img=$work/hostile.img
if ! "$LBVM" mkdisk "$t" -o "$img" --size 8M --fs ext2 --raw --spec "$work/spec" 2>"$m/err"; then
	fail disk_get_hostile_image "mkdisk: $(cat "$m/err")"
	exit 0
fi
if ! patch_name "$img" "..X..Xpwned1" "../../pwned1" || ! patch_name "$img" "lnkXpwned2" "lnk/pwned2" ||
   ! patch_name "$img" "lnkXpwned3" "lnk/pwned3" || ! patch_name "$img" "QQ" ".."; then
	fail disk_get_hostile_image "could not patch the names into the image"
	exit 0
fi

# what is outside the destination before the copy
snapshot() { (cd "$work" && find . -path ./x/out -prune -o -path ./m -prune -o -print | LC_ALL=C sort; cat outside/sentinel); }
snapshot > "$m/before"

"$LBVM" disk get "$img" / -o "$work/x/out" >"$m/stdout" 2>"$m/err"
rc=$?
snapshot > "$m/after"
if [ "$rc" = 0 ] && cmp -s "$m/before" "$m/after" && [ ! -e "$work/pwned1" ] && [ ! -e "$outside/pwned2" ] &&
   [ ! -e "$outside/pwned3" ]; then
	pass disk_get_creates_nothing_outside_dest
else
	fail disk_get_creates_nothing_outside_dest "exit $rc; changed outside: $(diff "$m/before" "$m/after" | tr '\n' ' ') $(cat "$m/err" | tr '\n' ' ')"
fi

refused=$(grep -c '^lbvm: warning: disk get: refused ' "$m/err")
want_lines="refused $work/x/out/../../pwned1: a name holding '/'
refused $work/x/out/lnk/pwned2: a name holding '/'
refused $work/x/out/lnk/pwned3: a name holding '/'
refused $work/x/out/dev/console: a character device (5,1): device nodes are not copied
refused $work/x/out/fifo: a FIFO: named pipes are not copied"
missing=$(echo "$want_lines" | while IFS= read -r l; do grep -qF -- "$l" "$m/err" || echo "[$l]"; done)
if [ "$refused" = 5 ] && [ -z "$missing" ]; then
	pass "disk_get_reports_each_refusal ($refused lines)"
else
	fail disk_get_reports_each_refusal "$refused refusal lines, missing: $missing; stderr: $(cat "$m/err" | tr '\n' '|')"
fi

o=$work/x/out
if [ "$(cat "$o/keep/file" 2>/dev/null)" = kept ] && [ "$(readlink "$o/lnk")" = "$outside" ] &&
   [ "$(stat -c %i "$o/inside-hl")" != "" ] && [ -f "$o/esc${esc}[31mred" ] && [ ! -e "$o/dev/console" ] &&
   [ ! -e "$o/fifo" ] && [ -d "$o/dev" ]; then
	pass disk_get_copies_the_rest
else
	fail disk_get_copies_the_rest "$(cd "$o" 2>/dev/null && find . | tr '\n' ' ')"
fi

mode=$(stat -c %a "$o/setuid" 2>/dev/null)
if [ "$mode" = 755 ]; then pass disk_get_drops_setuid; else fail disk_get_drops_setuid "mode $mode"; fi
if "$LBVM" disk get "$img" /setuid -o "$work/x/kept" --keep-setid 2>"$m/err2" &&
   [ "$(stat -c %a "$work/x/kept")" = 4755 ]; then
	pass disk_get_keep_setid
else
	fail disk_get_keep_setid "$(stat -c %a "$work/x/kept" 2>&1) $(cat "$m/err2")"
fi

# names from the image never reach the terminal raw: not in warnings, not in `disk ls`
"$LBVM" disk ls "$img" / >"$m/ls" 2>&1
if ! grep -q "$esc" "$m/err" "$m/ls" && grep -qF 'esc\x1b[31mred' "$m/ls" &&
   grep -qF 'lnk/pwned2' "$m/ls"; then
	pass disk_names_escaped
else
	fail disk_names_escaped "$(od -c "$m/ls" | grep -c '033') raw ESC in ls; $(cat "$m/ls" | tr '\n' '|')"
fi

# a device node asked for by name: refused with one line, exit 2, nothing created
"$LBVM" disk get "$img" /dev/console -o "$work/x/console" 2>"$m/err3"
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l < "$m/err3")" = 1 ] && grep -q 'character device' "$m/err3" &&
   [ -z "$(ls "$work/x" | grep console)" ]; then
	pass "disk_get_refuses_a_device_asked_for ($(cat "$m/err3"))"
else
	fail disk_get_refuses_a_device_asked_for "exit $rc: $(cat "$m/err3")"
fi

# The confined reader on a tree large enough to take every path of libext2fs and glibc that a small one
# does not (qsort of a 300-entry directory, multi-block and sparse files, slow symlinks, deep nesting):
# a call its sandbox does not allow would stop it with exit 10 (this runs the real binary, with glibc's
# own malloc and qsort, which the sanitizer builds of the unit tests replace).
big=$work/big
mkdir -p "$big/many" "$big/deep"
i=0
while [ $i -lt 300 ]; do echo "entry $i" > "$big/many/file-$i"; i=$((i + 1)); done
head -c 3000000 /dev/urandom > "$big/blob"
dd if=/dev/urandom of="$big/sparse" bs=4096 count=1 seek=500 2>/dev/null
ln -s "$(printf 'a%.0s' $(seq 200))" "$big/slow-symlink"
ln "$big/blob" "$big/many/blob-link"
d=$big/deep
for k in $(seq 40); do d=$d/d$k; done
mkdir -p "$d" && echo bottom > "$d/file"
if "$LBVM" mkdisk "$big" -o "$work/big.img" --size 64M 2>"$m/err"; then
	"$LBVM" disk get "$work/big.img" / -o "$work/x/big" 2>"$m/err"
	rc=$?
	n=$("$LBVM" disk ls "$work/big.img" /many 2>>"$m/err" | wc -l)
	if [ "$rc" = 0 ] && [ "$n" = 301 ] && diff -r --no-dereference -x lost+found "$big" "$work/x/big" >/dev/null &&
	   "$LBVM" disk cat "$work/big.img" /blob 2>>"$m/err" | cmp -s - "$big/blob" &&
	   [ "$(stat -c %i "$work/x/big/blob")" = "$(stat -c %i "$work/x/big/many/blob-link")" ]; then
		pass "disk_reader_confined_on_a_large_tree (301 entries listed, 3 MB file, 40 levels)"
	else
		fail disk_reader_confined_on_a_large_tree "exit $rc, $n entries listed: $(cat "$m/err" | tr '\n' ' ')"
	fi
else
	fail disk_reader_confined_on_a_large_tree "mkdisk: $(cat "$m/err")"
fi

# A filesystem the guest did not unmount (its journal flagged as needing recovery: the superblock's
# incompat bit 0x4, set here by hand on an ext3 image, which has no checksums) is read, with a warning
# that this reader does not replay journals.
mkdir -p "$work/rec"
echo inside > "$work/rec/file"
if "$LBVM" mkdisk "$work/rec" -o "$work/rec.img" --size 64M --fs ext3 2>"$m/err"; then
	sb=$((1048576 + 1024 + 96)) # the partition at 1 MiB, its superblock at 1024, s_feature_incompat
	old=$(od -An -tu1 -j "$sb" -N1 "$work/rec.img" | tr -d ' ')
	printf "\\$(printf %o $((old | 4)))" | dd of="$work/rec.img" bs=1 seek="$sb" conv=notrunc status=none
	got=$("$LBVM" disk cat "$work/rec.img" /file 2>"$m/err")
	if [ "$got" = inside ] && grep -q "was not unmounted and its journal holds writes not yet in place" "$m/err"; then
		pass disk_warns_about_an_unreplayed_journal
	else
		fail disk_warns_about_an_unreplayed_journal "read '$got': $(cat "$m/err" | tr '\n' ' ')"
	fi
else
	fail disk_warns_about_an_unreplayed_journal "mkdisk: $(cat "$m/err")"
fi
echo END
