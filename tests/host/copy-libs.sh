# Sourced by the test-host builders. copy_with_libs FILE ROOT DESTPATH: install a host program at
# ROOT/DESTPATH with every shared library ldd lists (in /usr/local/lib/lbvm, the test host's
# LD_LIBRARY_PATH) and the dynamic loader at its own path.
copy_with_libs() {
	install -D -m 0755 "$1" "$2$3"
	ldd "$1" | awk '/=> \//{ print $3 } /^\t\//{ print $1 }' | while read -r lib; do
		case "$lib" in
		*/ld-linux*) install -D -m 0755 "$(readlink -f "$lib")" "$2$lib" ;;
		*) install -D -m 0755 "$(readlink -f "$lib")" "$2/usr/local/lib/lbvm/$(basename "$lib")" ;;
		esac
	done
}
