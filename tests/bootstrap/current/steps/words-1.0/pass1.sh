# bash era: a program and its data (an executable in the package).
src_compile() {
	LC_ALL=C sort words.in >words.txt
}

src_install() {
	mkdir -p "${DESTDIR}${PREFIX}/bin" "${DESTDIR}${PREFIX}/share/words"
	cp words.txt "${DESTDIR}${PREFIX}/share/words/words.txt"
	cp words "${DESTDIR}${PREFIX}/bin/words"
	chmod 755 "${DESTDIR}${PREFIX}/bin/words"
}
