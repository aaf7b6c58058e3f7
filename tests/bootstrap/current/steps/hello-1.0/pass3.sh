# bash era, third pass: a package of its own in /external/repo.
src_compile() {
	cp hello.txt pass3.txt
}

src_install() {
	mkdir -p "${DESTDIR}${PREFIX}/share/hello"
	cp pass3.txt "${DESTDIR}${PREFIX}/share/hello/pass3.txt"
}
