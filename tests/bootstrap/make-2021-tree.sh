#!/bin/sh
# A small live-bootstrap tree of the 2021 layout (sysa/ sysb/ sysc/ sysglobal/), written for lbvm's tests,
# whose chain really runs sysa -> kexec -> sysb -> switch_root -> sysc on i386 programs from Debian:
#   - "stage0-posix" is Debian's kaem (mescc-tools:i386) as kaem-optional-seed, with glibc beside it;
#   - the kaem era (after.kaem) unpacks busybox:i386 into /usr/bin ("mes") and one more package;
#   - the bash era (run.sh, run by busybox's ash as "bash") builds packages through our own helpers.sh,
#     which prints live-bootstrap's progress lines; kexec-tools is Debian's kexec-tools:i386 and the
#     "linux-4.9.10" it kexecs into is Debian's 686 kernel with its SATA/ext4 modules;
#   - sysb mounts the disk and switch_roots into sysc, which builds two packages and prints
#     "Bootstrapping completed." before its interactive shell.
# Package and distfile names are live-bootstrap's own (so lbvm's manifests know which folder each file
# goes in); their contents are made here, and the tree's SHA256SUMS.sources has their real hashes, which
# lbvm takes over its manifests' as the 2021 harness did.
#
# Usage: make-2021-tree.sh FIXTURE-CACHE TREE DISTFILES [VARIANT]
#   VARIANT: ok (default), kaem-checksum, bash-fail, panic, hang, fake-text, sysc-fail
# Writes TREE (which must not exist) and the distfiles into DISTFILES (created if needed).
set -eu
cache=$1 tree=$2 dist=$3 variant=${4:-ok}
[ ! -e "$tree" ] || { echo "make-2021-tree: $tree exists" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$tree" "$dist"
I=$cache/i386
export TZ=UTC LC_ALL=C

# tarball NAME DIR: a gzip/bzip2 tarball (by NAME's suffix) of DIR's contents, owned by root, sorted, dated 0
tarball() {
	name=$1 dir=$2
	case "$name" in
	*.tar.bz2) z=bzip2 ;;
	*.tar.xz) z=xz ;;
	*) z="gzip -n" ;;
	esac
	(cd "$dir" && find . -mindepth 1 | sort | tar --no-recursion --owner=0 --group=0 --numeric-owner \
		--mtime=@0 -cf - -T -) | $z >"$dist/$name"
}

# ---- stage0-posix stand-in ------------------------------------------------------------------------
s0=$tree/sysa/stage0-posix/src
mkdir -p "$s0/x86/bin" "$s0/x86/lib/i386-linux-gnu" "$s0/bootstrap-seeds/POSIX/x86"
for d in M2-Planet M2libc mescc-tools mescc-tools-extra; do
	mkdir -p "$s0/$d"
	echo "stand-in for $d (lbvm test tree)" >"$s0/$d/README"
done
# Debian's mescc-tools:i386 (tests/host/fixtures.sh): a real kaem
install -m 0755 "$I/usr/bin/kaem" "$s0/bootstrap-seeds/POSIX/x86/kaem-optional-seed"
install -m 0755 "$I/usr/bin/kaem" "$s0/x86/bin/kaem"
install -m 0755 "$I/bin/busybox" "$s0/x86/bin/busybox"
install -m 0755 "$(readlink -f "$I/lib/i386-linux-gnu/ld-linux.so.2")" "$s0/x86/lib/ld-linux.so.2"
install -m 0755 "$(readlink -f "$I/lib/i386-linux-gnu/libc.so.6")" "$s0/x86/lib/i386-linux-gnu/libc.so.6"
# kaem.run: what stage0-posix's does last, after building itself: hand over to after.kaem.
cat >"$s0/x86/kaem.run" <<'EOF'
# stand-in for stage0-posix: the tools are already here
/bin/busybox echo stage0-posix stand-in: hex0 to mescc-tools-extra skipped
/bin/kaem --verbose --strict --file /after.kaem
EOF
printf 'placeholder  bin/kaem\n' >"$s0/x86.answers"

# ---- sysglobal: our own helpers.sh with live-bootstrap's progress lines -----------------------------
mkdir -p "$tree/sysglobal"
cat >"$tree/sysglobal/helpers.sh" <<'EOF'
# helpers.sh of lbvm's test tree: `build PKG [SCRIPT] [CHECKSUMS]` prints live-bootstrap's lines.
build() {
	pkg=$1
	script_name=${2:-${pkg}.sh}
	checksum_f=${3:-checksums}
	cd "${SOURCES}/${pkg}"
	echo "${pkg}: beginning build using script ${script_name}"
	base_dir="${PWD}"
	mkdir -p build
	cd build
	# busybox's tar needs to be told the compression (it does not guess it on -x)
	src_unpack() {
		for f in "${base_dir}"/src/*; do
			case "$f" in
			*.gz) tar -xzf "$f" ;;
			*.bz2) tar -xjf "$f" ;;
			*) tar -xf "$f" ;;
			esac
		done
	}
	src_install() { cp -a payload/. "${DESTDIR:-}/"; }
	src_compile() { :; }
	if test -e "${base_dir}/${script_name}"; then . "${base_dir}/${script_name}"; fi
	echo "${pkg}: unpacking source."
	src_unpack
	echo "${pkg}: compiling source."
	src_compile
	echo "${pkg}: installing."
	src_install
	cd "${SOURCES}/${pkg}"
	echo "${pkg}: checksumming installed files."
	test -e "${checksum_f}" && sha256sum -c "${checksum_f}"
	rm -rf build
	echo "${pkg}: build successful"
	cd "${SOURCES}"
}
populate_device_nodes() {
	mkdir -p "${1}/dev"
	test -c "${1}/dev/null" || mknod -m 666 "${1}/dev/null" c 1 3
	test -c "${1}/dev/console" || mknod -m 666 "${1}/dev/console" c 5 1
}
EOF
echo "# lbvm test tree: stands in for live-bootstrap's rootfs.py" >"$tree/rootfs.py"

# ---- packages ---------------------------------------------------------------------------------------
# pkg SYS NAME: a package folder; its payload/ goes into the tarball, its checksums list what it installs
pkgdir() { mkdir -p "$tree/$1/$2"; echo "$tree/$1/$2"; }
payload() { rm -rf "$work/p"; mkdir -p "$work/p/payload"; echo "$work/p/payload"; }
# checksums FILE PATH...: sha256 lines of installed files (their content is known here)
sums() { out=$1; shift; : >"$out"; while [ $# -gt 0 ]; do echo "$(sha256sum <"$2" | cut -d' ' -f1)  $1" >>"$out"; shift 2; done; }

# kaem era: mes (busybox into /usr/bin) and tcc-0.9.26 (a marker file)
d=$(pkgdir sysa mes)
p=$(payload)
mkdir -p "$p/usr/bin"
install -m 0755 "$I/bin/busybox" "$p/usr/bin/busybox"
tarball mes.tar.gz "$work/p"
mkdir -p "$work/ny/nyacc"; echo "nyacc stand-in" >"$work/ny/nyacc/README"
tarball nyacc-1.00.2.tar.gz "$work/ny"
cat >"$d/mes.kaem" <<'EOF'
set -ex
cd /after/mes
/bin/busybox mkdir build
cd build
/bin/busybox tar -xzf ../src/mes.tar.gz
/bin/busybox cp -a payload/usr /
cd ..
/usr/bin/busybox --install -s /usr/bin
/usr/bin/cp /after/mes/bash /usr/bin/bash
/usr/bin/chmod 0755 /usr/bin/bash
/usr/bin/sha256sum -c checksums
EOF
sums "$d/checksums" /usr/bin/busybox "$I/bin/busybox"
# busybox has no applet called bash: the chain's "bash" is its shell under that name
printf '#!/usr/bin/busybox sh\nexec /usr/bin/busybox sh "$@"\n' >"$d/bash"

d=$(pkgdir sysa tcc-0.9.26)
p=$(payload)
mkdir -p "$p/usr/lib/tcc"; echo "tcc 0.9.26 stand-in" >"$p/usr/lib/tcc/marker"
tarball tcc-0.9.26.tar.gz "$work/p"
cat >"$d/tcc-0.9.26.kaem" <<'EOF'
set -ex
cd /after/tcc-0.9.26
/usr/bin/tar -xzf src/tcc-0.9.26.tar.gz
/usr/bin/cp -a payload/usr /
/usr/bin/sha256sum -c checksums
EOF
sums "$d/checksums" /usr/lib/tcc/marker "$p/usr/lib/tcc/marker"
[ "$variant" = kaem-checksum ] && sed -i 's/^./0/' "$d/checksums"

cat >"$tree/sysa/after.kaem" <<'EOF'
#!/bin/sh
# after.kaem of lbvm's test tree
set -ex
PATH=/bin
sources=/after
prefix=/usr
MES_PKG=mes
cd ${sources}
pkg=${MES_PKG}
cd ${pkg}
kaem --file ${pkg}.kaem
cd ${sources}
pkg="tcc-0.9.26"
cd ${pkg}
kaem --file ${pkg}.kaem
cd ..
PATH=/usr/bin:/usr/sbin
bash run.sh
EOF

# bash era in sysa
d=$(pkgdir sysa flex-2.5.11)
p=$(payload)
mkdir -p "$p/usr/share/flex"; echo "flex stand-in" >"$p/usr/share/flex/marker"
tarball flex-2.5.11.tar.gz "$work/p"
sums "$d/checksums" /usr/share/flex/marker "$p/usr/share/flex/marker"
case "$variant" in
bash-fail) printf 'src_compile() { echo "flex: compiling fails on purpose"; false; }\n' >"$d/flex-2.5.11.sh" ;;
panic) printf 'src_compile() { echo "flex: crashing the kernel on purpose"; mkdir -p /proc; mount -t proc proc /proc 2>/dev/null; echo c >/proc/sysrq-trigger; }\n' >"$d/flex-2.5.11.sh" ;;
hang) printf 'src_compile() { echo "flex: hanging silently on purpose"; while :; do :; done; }\n' >"$d/flex-2.5.11.sh" ;;
fake-text) printf 'src_compile() { echo "Kernel panic - not syncing: this is only text"; echo "reboot: Power down"; echo "reboot: Restarting system"; echo "---[ end Kernel panic - not syncing: only text ]---"; sleep 5; }\n' >"$d/flex-2.5.11.sh" ;;
esac

d=$(pkgdir sysa mes-0.23)
p=$(payload)
mkdir -p "$p/usr/share/mes"; echo "mes-libc stand-in" >"$p/usr/share/mes/marker"
tarball mes-0.23.tar.gz "$work/p"
printf '# a second script of the package, as live-bootstrap has\n' >"$d/mes-libc-0.23.sh"
sums "$d/checksums" /usr/share/mes/marker "$p/usr/share/mes/marker"

# kexec-tools: Debian's kexec with its libraries, and (a stand-in's liberty: they must be in /usr before
# create_sysb copies it) the modules the next kernel needs for its SATA disk and ext4
d=$(pkgdir sysa kexec-tools-2.0.22)
p=$(payload)
mkdir -p "$p/usr/sbin" "$p/usr/lib/i386-linux-gnu"
install -m 0755 "$I/sbin/kexec" "$p/usr/sbin/kexec"
for lib in libz.so.1 liblzma.so.5; do
	install -m 0644 "$(readlink -f "$I/lib/i386-linux-gnu/$lib")" "$p/usr/lib/i386-linux-gnu/$lib"
done
kver=$(ls "$I/lib/modules" | head -n1)
mkdir -p "$p/usr/lib/modules/$kver"
here=$(cd "$(dirname "$0")/../host" && pwd)
"$here/module-order.sh" "$I/lib/modules/$kver" crc32c_generic crct10dif_generic sd_mod ahci ext4 >"$p/usr/lib/modules/$kver/load-order"
while read -r ko; do
	mkdir -p "$p/usr/lib/modules/$kver/$(dirname "$ko")"
	cp "$I/lib/modules/$kver/$ko" "$p/usr/lib/modules/$kver/$ko"
done <"$p/usr/lib/modules/$kver/load-order"
tarball kexec-tools-2.0.22.tar.gz "$work/p"
sums "$d/checksums" /usr/sbin/kexec "$I/sbin/kexec"

# linux-4.9.10: Debian's 686 kernel
d=$(pkgdir sysa linux-4.9.10)
p=$(payload)
mkdir -p "$p/usr/boot"
cp "$(ls "$I"/boot/vmlinuz-* | head -n1)" "$p/usr/boot/linux-4.9.10"
tarball linux-4.9.10.tar.gz "$work/p"
echo "deblob stand-in" >"$dist/deblob-4.9"
echo "deblob-check stand-in" >"$dist/deblob-check"
cat >"$d/linux-4.9.10.sh" <<'EOF'
src_unpack() { tar -xzf "${base_dir}/src/linux-4.9.10.tar.gz"; }
EOF
sums "$d/checksums" /usr/boot/linux-4.9.10 "$p/usr/boot/linux-4.9.10"

cat >"$tree/sysa/run.sh" <<'EOF'
#!/bin/bash
# run.sh of lbvm's test tree (sysa's bash era)
set -e
# (the test tree's bash is busybox's POSIX shell: its `.` looks in PATH only, so the files are ./named)
. ./helpers.sh
. ./bootstrap.cfg
export PREFIX=/usr
export SOURCES=/after
mkdir -p "${PREFIX}/sbin"
export PATH="${PREFIX}/bin:${PREFIX}/sbin"

create_sysb() {
    echo "Creating sysb rootfs"
    mkdir -p /sysb/usr
    for d in bin lib sbin; do
        cp -a "${PREFIX}/${d}" "/sysb/usr/${d}"
    done
    populate_device_nodes /sysb
}

go_sysb() {
    mkdir -p /proc /etc
    mount -t proc proc /proc
    (cd /sysb && find . | cpio -o -H newc) >"${PREFIX}/boot/initramfs-sysb"
    echo "Loading kernel + sysb initramfs using kexec"
    kexec -l "${PREFIX}/boot/linux-4.9.10" --initrd="${PREFIX}/boot/initramfs-sysb" \
        --append="init=/init console=ttyS0"
    echo "kexecing into sysb"
    kexec -e
}

build flex-2.5.11

build mes-0.23 mes-libc-0.23.sh

if [ "${CHROOT}" = False ]; then
    build kexec-tools-2.0.22

    create_sysb

    build linux-4.9.10

    go_sysb
fi
EOF

# ---- sysb -------------------------------------------------------------------------------------------
mkdir -p "$tree/sysb"
# (exec: busybox's switch_root must run as PID 1; live-bootstrap's own switch_root does not insist)
cat >"$tree/sysb/init" <<'EOF'
#!/usr/bin/bash
set -e
cd /usr/src
exec ./run.sh
EOF
cat >"$tree/sysb/run.sh" <<'EOF'
#!/usr/bin/bash
# sysb of lbvm's test tree: the next kernel's disk drivers are modules here (live-bootstrap's own kernel
# has them built in), then what live-bootstrap's sysb does: mount sysc, copy /usr over, switch_root.
set -e
. ./helpers.sh
. ./bootstrap.cfg
export PATH=/usr/bin:/usr/sbin
echo "Mounting sysc"
mkdir -p /sysc /etc /dev /proc /sys
populate_device_nodes ""
mount -t proc proc /proc
mount -t sysfs sys /sys
dir=/usr/lib/modules/$(uname -r)
while read -r ko; do insmod "$dir/$ko"; done <"$dir/load-order"
i=0
while [ ! -e /sys/block/sda/sda1 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
mknod -m 600 /dev/sda b 8 0
mknod -m 600 /dev/sda1 b 8 1
mount -t ext4 "/dev/${DISK}" /sysc
echo "Copying data into sysc"
cp -a /dev /sysc/
for d in bin lib sbin boot; do [ -d /usr/$d ] && cp -a /usr/$d /sysc/usr/; done
sync
echo "Switching into sysc"
exec switch_root /sysc /init
EOF
chmod 0755 "$tree/sysb/init" "$tree/sysb/run.sh"

# ---- sysc -------------------------------------------------------------------------------------------
mkdir -p "$tree/sysc"
cat >"$tree/sysc/init" <<'EOF'
#!/usr/bin/bash
set -e
cd /usr/src
./run.sh
EOF
cat >"$tree/sysc/run.sh" <<'EOF'
#!/usr/bin/bash
# run.sh of lbvm's test tree (sysc)
set -e
. ./helpers.sh
export PATH=/usr/bin:/usr/sbin
export PREFIX=/usr
export SOURCES=/usr/src
populate_device_nodes ""
mkdir -p /proc /tmp
mount -t proc proc /proc 2>/dev/null || true

build bash-5.1

exec env -i PATH=${PATH} PREFIX=${PREFIX} SOURCES=${SOURCES} bash run2.sh
EOF
cat >"$tree/sysc/run2.sh" <<'EOF'
#!/bin/bash
# run2.sh of lbvm's test tree (sysc)
set -e
trap 'env - PATH=${PREFIX}/bin PS1="\w # " bash -i' EXIT
. ./helpers.sh
trap bash EXIT

build xz-5.0.5

echo "Bootstrapping completed."

cd "${PREFIX}"
exec env - PATH="${PREFIX}/bin" PS1="\w # " bash -i
EOF
chmod 0755 "$tree/sysc/init" "$tree/sysc/run.sh" "$tree/sysc/run2.sh" "$tree/sysa/run.sh"

d=$(pkgdir sysc bash-5.1)
p=$(payload)
mkdir -p "$p/usr/share/bash"; echo "bash 5.1 stand-in, built in sysc" >"$p/usr/share/bash/marker"
tarball bash-5.1.tar.gz "$work/p"
sums "$d/checksums" /usr/share/bash/marker "$p/usr/share/bash/marker"
d=$(pkgdir sysc xz-5.0.5)
p=$(payload)
mkdir -p "$p/usr/share/xz"; echo "xz 5.0.5 stand-in, built in sysc" >"$p/usr/share/xz/marker"
tarball xz-5.0.5.tar.bz2 "$work/p"
sums "$d/checksums" /usr/share/xz/marker "$p/usr/share/xz/marker"
[ "$variant" = sysc-fail ] && printf 'src_compile() { echo "xz: compiling fails on purpose"; false; }\n' >"$d/xz-5.0.5.sh"

# ---- the tree's hash list: the authority for every distfile -----------------------------------------
(cd "$dist" && for f in mes.tar.gz nyacc-1.00.2.tar.gz tcc-0.9.26.tar.gz flex-2.5.11.tar.gz mes-0.23.tar.gz \
	kexec-tools-2.0.22.tar.gz linux-4.9.10.tar.gz deblob-4.9 deblob-check bash-5.1.tar.gz xz-5.0.5.tar.bz2; do
	sha256sum "$f"
done) >"$tree/SHA256SUMS.sources"
echo "make-2021-tree: $tree ($variant), distfiles in $dist"
