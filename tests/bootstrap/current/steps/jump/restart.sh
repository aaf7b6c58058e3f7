#!/bin/sh
# A bash-era jump: live-bootstrap kexecs into a new kernel whose /init runs the next script; this one
# starts the new /init in place of the running shell.
exec /init
