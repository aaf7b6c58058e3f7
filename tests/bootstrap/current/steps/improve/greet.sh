# A kaem-era improve (kaem runs it): it only says hello.
set -ex
echo the kaem era runs improve scripts too
