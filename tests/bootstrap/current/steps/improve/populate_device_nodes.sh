#!/bin/sh
# /dev and /proc: the kernel's devtmpfs where live-bootstrap makes the nodes with mknod (a chroot brings
# its own /dev).
[ -c /dev/null ] || mount -t devtmpfs devtmpfs /dev
[ -d /proc/self ] || mount -t proc proc /proc
