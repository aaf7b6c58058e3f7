#!/bin/sh
# /bin, /lib and /sbin into /usr, as live-bootstrap's merged_usr (those that exist stay).
for d in bin lib sbin; do
	ln -s "usr/${d}" "/${d}" || true
done
