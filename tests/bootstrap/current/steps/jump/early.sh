# A kaem-era jump (kernel bootstrap only): live-bootstrap boots Fiwix here; this one starts the new /init.
set -ex
/init
