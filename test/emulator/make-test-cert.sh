#!/bin/sh
# make-test-cert.sh DIR
#   Create throwaway TLS material for the Comms API emulator's tests in DIR:
#     ca.pem, ca.key          a self-signed test CA
#     server.pem, server.key  a server certificate for 127.0.0.1 and localhost
#                             (subjectAltName), signed by that CA
#   Needs only the openssl command line tool.  Never use these anywhere else.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"

umask 077
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
	-subj "/CN=comms_resolve test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-keyout ca.key -out ca.pem 2>/dev/null

openssl req -newkey rsa:2048 -nodes -sha256 \
	-subj "/CN=127.0.0.1" \
	-keyout server.key -out server.csr 2>/dev/null

cat > server.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT

openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-sha256 -days 3650 -extfile server.ext -out server.pem 2>/dev/null

rm -f server.csr server.ext ca.srl
chmod 644 ca.pem server.pem
echo "$dir: ca.pem server.pem server.key"
