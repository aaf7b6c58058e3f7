# One link per busybox applet in DIR: the synthetic seed's stand-in for the tools stage0-posix builds.
set -e
cd "$1"
for applet in $(./busybox --list); do
	[ -e "$applet" ] || ln -s busybox "$applet"
done
