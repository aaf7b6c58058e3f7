# bash era, after the network step: its distfile is not on the disk; the guest gets it from MIRRORS.
src_install() {
	mkdir -p "${DESTDIR}${PREFIX}/share/fetched"
	cp fetched.txt "${DESTDIR}${PREFIX}/share/fetched/fetched.txt"
}
