#!/bin/sh
# The end, as live-bootstrap's after.sh: sync; outside a chroot, remount read-only and power off through
# sysrq (the kernel's own power-off, which a VMM sees as a device event, not as console text).
sync
if [ "${CHROOT}" = False ]; then
	echo u >/proc/sysrq-trigger
	mount -o remount,ro /
	echo o >/proc/sysrq-trigger
	while true; do sleep 1; done
fi
