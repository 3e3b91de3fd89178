#!/bin/sh
# Append rate over mutual TLS next to plain HTTP, same load: 64 keep-alive
# connections of single appends by one writer principal (org police),
# known by its client certificate over TLS and by a token over plain HTTP.  Each side runs RUNS times
# (default 3), alternating; the medians are printed.
#
#	bench/tls.sh [build-dir]		(after `make bench`)
set -eu
build=${1:-build}
runs=${RUNS:-3}
seconds=${SECONDS_PER_RUN:-5}
ledgerd=$build/ledgerd
load=$build/bench/load
here=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$ledgerd" ] && [ -x "$load" ] || { echo "build first: make && make bench" >&2; exit 2; }

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
sh "$here/tests/access_pki.sh" "$work" >/dev/null
token=bench-writer-token-0123456789abcdef
token_sha=$(printf %s "$token" | openssl dgst -sha256 -r | cut -d' ' -f1)
cert_sha=$(openssl x509 -in "$work/police.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
. "$here/bench/daemons.sh"

# config NAME LISTEN TLS-JSON CREDENTIALS-JSON
config() {
	cat >"$work/$1.json" <<EOC
{
  "listen": "$2",
  "data": "$work/data-$1",
  "origin": "bench.example.org/tls",
  "orgs": ["police", "kmar", "aivd", "mivd", "om", "ind", "fiod", "fiu", "szw", "nctv", "board"],
  $3
  "principals": [
    {"id": "police-app", "org": "police", "roles": ["writer"], $4}
  ]
}
EOC
}
config tls "127.0.0.1:0" "\"tls\": {\"cert\": \"$work/server.pem\", \"key\": \"$work/server.key\", \"client_ca\": \"$work/ca.pem\"}," \
    "\"cert_sha256\": \"$cert_sha\""
config plain "127.0.0.1:0" "" "\"token_sha256\": \"$token_sha\""

# one NAME: one run, prints events/s
one() {
	rm -rf "$work/data-$1"
	"$ledgerd" serve --config "$work/$1.json" >"$work/out" 2>"$work/log" &
	pid=$!
	wait_listening "$work/log" || exit 1
	port=$(listening_port "$work/log")
	if [ "$1" = tls ]; then
		"$load" --url "https://127.0.0.1:$port" --cacert "$work/ca.pem" \
		    --cert "$work/police.pem" --key "$work/police.key" --org police \
		    --seconds "$seconds" --connections 64 >"$work/run" 2>&1 || true
	else
		"$load" --url "http://127.0.0.1:$port" --token "$token" --org police \
		    --seconds "$seconds" --connections 64 >"$work/run" 2>&1 || true
	fi
	kill $pid
	wait $pid 2>/dev/null || true
	pid=
	awk '/^events\/s:/ { print $2 }' "$work/run"
}

: >"$work/tls.txt"
: >"$work/plain.txt"
for _ in $(seq "$runs"); do
	one tls >>"$work/tls.txt"
	one plain >>"$work/plain.txt"
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
t=$(median "$work/tls.txt")
p=$(median "$work/plain.txt")
echo "mutual TLS: $t events/s (runs: $(sort -n "$work/tls.txt" | tr '\n' ' '))"
echo "plain HTTP: $p events/s (runs: $(sort -n "$work/plain.txt" | tr '\n' ' '))"
awk -v t="$t" -v p="$p" 'BEGIN { if (p > 0) printf "TLS / plain: %.2f\n", t / p }'
