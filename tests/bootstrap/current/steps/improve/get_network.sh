#!/bin/sh
# The network, as live-bootstrap's get_network.sh wants it: an address by DHCP (outside a chroot), then
# an answer from outside within two minutes; here the first mirror must serve the post-network distfile.
if [ "${CHROOT}" = False ]; then
	ip link set eth0 up
	udhcpc -i eth0 -n -q -s /steps/improve/udhcpc.script
fi
mirror=${MIRRORS%% *}
case "${QEMU}-${mirror}" in True-http://127.0.0.1*) mirror="http://10.0.2.2${mirror#http://127.0.0.1}" ;; esac
timeout=120
while [ -n "${mirror}" ] && ! wget -q -O /dev/null "${mirror}/fetched-1.0.tar.gz"; do
	sleep 1
	timeout=$((timeout - 1))
	if [ "${timeout}" -le 0 ]; then
		echo "Timeout reached for the mirror to become accessible"
		false
	fi
done
