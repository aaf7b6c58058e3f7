#!/bin/sh
# The synthetic tree's build helpers: the shape of live-bootstrap's steps/helpers.sh (build, its stages,
# distfile download and check, deterministic packages in /external/repo checked against SHA256SUMS.pkgs,
# uninstall), written for lbvm's tests in POSIX sh so busybox's shell runs it in the guest and the host's
# sh computes the same packages (make-current-tree.sh sources this file for pkg_tar).
# The console lines are those of the real helpers: "PKG: beginning build using script passN.sh",
# "PKG: build successful", "PKG: no checksum stored!", "PKG: installing prebuilt package.", ...

umask 022
DESTDIR=/tmp/destdir
REPO=/external/repo

# pkg_tar DIR: a ustar archive of DIR's contents on stdout, the same bytes wherever it runs: entries in
# bytewise path order, owner 0:0, time 0, mode 0755 for folders and executables and 0644 for the rest.
tar_zeros() {
	[ "$1" -gt 0 ] && head -c "$1" /dev/zero
	return 0
}

tar_field() { # TEXT WIDTH
	printf '%s' "$1"
	tar_zeros $(($2 - ${#1}))
}

tar_header() { # NAME MODE SIZE TYPE TMPFILE
	{
		tar_field "$1" 100
		tar_field "$(printf '%07o' "$2")" 8
		tar_field 0000000 8
		tar_field 0000000 8
		tar_field "$(printf '%011o' "$3")" 12
		tar_field 00000000000 12
		printf '        %s' "$4"
		tar_zeros 100
		printf 'ustar\00000'
		tar_zeros 64
		tar_field 0000000 8
		tar_field 0000000 8
		tar_zeros 167
	} >"$5"
	sum=$(od -An -tu1 -v "$5" | awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s }')
	head -c 148 "$5"
	printf '%06o\000 ' "$sum"
	tail -c 356 "$5"
}

pkg_tar() {
	tmp=$(mktemp)
	(cd "$1" && find . | LC_ALL=C sort) | while read -r path; do
		[ "$path" = . ] && continue
		if [ -d "$1/$path" ]; then
			tar_header "$path/" 493 0 5 "$tmp"
		else
			size=$(($(wc -c <"$1/$path")))
			mode=420
			[ -x "$1/$path" ] && mode=493
			tar_header "$path" "$mode" "$size" 0 "$tmp"
			cat "$1/$path"
			tar_zeros $(((512 - size % 512) % 512))
		fi
	done
	tar_zeros 1024
	rm -f "$tmp"
}

# The packages already in /external/repo whose name starts with PKG (live-bootstrap's get_revision).
get_revision() {
	revision=$( (cd "${REPO}" && ls -1 "$1"* 2>/dev/null || true) | wc -l)
	revision=$((revision))
}

bin_preseed() {
	[ -d /external/repo-preseeded ] || return 1
	get_revision "${pkg}"
	[ -e "/external/repo-preseeded/${pkg}_${revision}.tar.bz2" ] || return 1
	cp "/external/repo-preseeded/${pkg}_${revision}.tar.bz2" "${REPO}/"
	if [ "${UPDATE_CHECKSUMS}" = True ] || src_checksum "${pkg}" "${revision}"; then
		echo "${pkg}: installing prebuilt package."
		src_apply "${pkg}" "${revision}"
		cd "${SRCDIR}"
		return 0
	fi
	rm -f "${REPO}/${pkg}_${revision}.tar.bz2"
	return 1
}

uninstall() {
	for removing in "$@"; do
		case "${removing}" in
		/*)
			echo "removing file: ${removing}."
			rm -f "${removing}"
			;;
		*)
			echo "${removing}: uninstalling."
			get_revision "${removing}"
			bzip2 -dc "${REPO}/${removing}_$((revision - 1)).tar.bz2" | tar -tf - | while read -r f; do
				[ -f "/${f}" ] && rm -f "/${f}"
			done
			;;
		esac
	done
}

source_line_action() {
	action=$1
	type=$2
	shift 2
	[ "${type}" = g ] && shift
	url=$1 checksum=$2 fname=${3:-$(basename "$1")}
	"${action}" "${url}" "${checksum}" "${fname}"
}

download_source_line() {
	[ -e "$3" ] && return 0
	for mirror in ${MIRRORS}; do
		# The guest reaches the host's loopback as 10.0.2.2 (the user-mode network's host address).
		case "${QEMU}-${mirror}" in True-http://127.0.0.1*) mirror="http://10.0.2.2${mirror#http://127.0.0.1}" ;; esac
		echo "${mirror}/$3"
		wget -q -O "$3" "${mirror}/$3" && break
		rm -f "$3"
	done
	if ! [ -e "$3" ] && [ "$1" != _ ]; then
		wget -q -O "$3" "$1" || rm -f "$3"
	fi
	return 0
}

check_source_line() {
	if ! [ -e "$3" ]; then
		echo "$3 does not exist!"
		false
	fi
	echo "$2  $3" >"$3.sum"
	sha256sum -c "$3.sum"
	rm "$3.sum"
}

extract_file() {
	case "$3" in
	*.tar.gz | *.tgz) tar -xzf "${DISTFILES}/$3" ;;
	*) cp "${DISTFILES}/$3" . ;;
	esac
}

default_src_get() {
	cd "${DISTFILES}"
	while read -r line; do
		source_line_action download_source_line ${line}
	done <"${base_dir}/sources"
	while read -r line; do
		source_line_action check_source_line ${line}
	done <"${base_dir}/sources"
	cd "${base_dir}/build"
}

default_src_unpack() {
	while read -r line; do
		source_line_action extract_file ${line}
	done <"${base_dir}/sources"
	[ -e "${dirname}" ] || dirname=.
}

default_src_prepare() { :; }
default_src_configure() { :; }
default_src_compile() { :; }
default_src_install() { :; }
default_src_postprocess() { :; }

src_pkg() {
	cd "${REPO}"
	pkg_tar "${DESTDIR}" >"${pkg}_${revision}.tar"
	bzip2 -9 "${pkg}_${revision}.tar"
}

src_checksum() {
	[ "${UPDATE_CHECKSUMS}" = True ] && return 0
	grep "$1_$2.tar.bz2" "${SRCDIR}/SHA256SUMS.pkgs" >/tmp/checksum || true
	if ! [ -s /tmp/checksum ]; then
		echo "$1: no checksum stored!"
		false
	fi
	echo "$1: checksumming created package."
	rval=0
	(cd "${REPO}" && sha256sum -c /tmp/checksum) || rval=$?
	rm /tmp/checksum
	return "${rval}"
}

src_apply() {
	bzip2 -dc "${REPO}/$1_$2.tar.bz2" | tar -C / -xf -
}

fn_exists() {
	case "$(type "$1" 2>/dev/null)" in *function*) return 0 ;; esac
	return 1
}

call() {
	if fn_exists "$1"; then
		"$1"
	else
		"default_$1"
	fi
}

build() {
	pkg=$1
	get_revision "${pkg}"
	script_name=${2:-pass$((revision + 1)).sh}
	dirname=${pkg}
	bin_preseed && return 0

	cd "${SRCDIR}/${pkg}"
	echo "${pkg}: beginning build using script ${script_name}"
	base_dir=${PWD}
	rm -rf build "${DESTDIR}"
	mkdir build
	cd build
	[ -e "${base_dir}/${script_name}" ] && . "${base_dir}/${script_name}"

	echo "${pkg}: getting sources."
	call src_get
	echo "${pkg}: unpacking source."
	call src_unpack
	cd "${dirname}"
	echo "${pkg}: preparing source."
	call src_prepare
	echo "${pkg}: configuring source."
	call src_configure
	echo "${pkg}: compiling source."
	call src_compile
	echo "${pkg}: install to fakeroot."
	mkdir -p "${DESTDIR}"
	call src_install
	echo "${pkg}: postprocess binaries."
	call src_postprocess
	echo "${pkg}: creating package."
	src_pkg
	src_checksum "${pkg}" "${revision}"
	echo "${pkg}: cleaning up."
	rm -rf "${SRCDIR}/${pkg}/build" "${DESTDIR}"
	echo "${pkg}: installing package."
	src_apply "${pkg}" "${revision}"
	echo "${pkg}: build successful"
	cd "${SRCDIR}"
	unset -f src_get src_unpack src_prepare src_configure src_compile src_install src_postprocess
}
