#!/bin/sh
# Makes the test PKI of test_access in DIR with the openssl command: a CA,
# a server certificate for 127.0.0.1, client certificates (police, board,
# stranger: valid but registered to nobody), an expired one, and one from
# another CA.  Keys are EC P-256, mode 0600.
set -eu
dir=$1
cd "$dir"
umask 077
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() {
	key "$1"
	openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null
}
# cert NAME SUBJECT CA DAYS [EXTFILE]
cert() {
	key "$1"
	openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
		-days "$4" ${5:+-extfile "$5"} -out "$1.pem" 2>/dev/null
	rm -f "$1.csr"
}
ca ca
ca otherca
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
cert server "/CN=127.0.0.1" ca 2 server.ext
cert police "/O=police/CN=police-app" ca 2 client.ext
cert board "/O=board/CN=board-app" ca 2 client.ext
cert stranger "/O=kmar/CN=stranger" ca 2 client.ext
cert expired "/O=police/CN=police-old" ca -1 client.ext
cert wrongca "/O=police/CN=police-app" otherca 2 client.ext
chmod 644 ./*.pem
