# Payload of the wedge probe: the kexec suite's seeds and disk (it runs one of its chains).
sh "$(dirname "$0")/kexec.sh" "$@"
