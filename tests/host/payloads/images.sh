# Payload of the images suite: an initramfs and a disk made by `lbvm mkinitramfs` and `lbvm mkdisk` (the
# build machine's lbvm, as an ordinary user would), booted by lbvm in the test host.
# Usage: images.sh FIXTURE-CACHE OUTER-ROOT OUT
set -eu
cache=$1 h=$2 out=$3
lbvm=$h/usr/local/bin/lbvm
dest=$h/lbvm-tests/images
rm -rf "$out/images-root" "$out/images-tree"
mkdir -p "$dest" "$out/images-root" "$out/images-tree/etc" "$out/images-tree/usr/src"
# The guests' root, unpacked, then packed again by lbvm with /dev/console from a spec file.
(cd "$out/images-root" && cpio -idm --quiet <"$out/guest/initramfs.cpio")
printf 'dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\n' >"$out/images.spec"
export SOURCE_DATE_EPOCH=1700000000
"$lbvm" mkinitramfs "$out/images-root" \
	-o "$dest/initramfs.cpio.gz" --gzip --spec "$out/images.spec"
echo lbvm-made >"$out/images-tree/disk-id"
printf 'key=value\n' >"$out/images-tree/etc/conf"
ln -sf ../etc/conf "$out/images-tree/usr/hello-link"
"$lbvm" mkdisk "$out/images-tree" \
	-o "$dest/disk.img" --size 64M
