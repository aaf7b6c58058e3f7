# Issue "three systems in one run": a seed kernel kexecs into the next kernel, which mounts the AHCI disk
# and switch_roots into it; the disk's /init writes a result file and powers off. Debian stand-ins for
# what live-bootstrap's sysa would build (its kexec-tools is i386, as sysa's userland is). Each
# combination is one `lbvm boot`.
. /lbvm-tests/scenarios/lib.sh
KEXEC_TIMEOUT=600
GUARD=$((KEXEC_TIMEOUT + 60))

chain 686-to-686 "$K32" 686
chain amd64-to-686 "$K64" 686
chain amd64-to-amd64 "$K64" amd64

chain amd64-to-amd64-amd64tools "$K64" amd64
