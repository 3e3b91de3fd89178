#!/bin/sh
# Soak test (not part of CI): a development-mode ledgerd on loopback under a
# fixed mix for SOAK_MINUTES (default 30) — paced appends from bench/load,
# provenance queries, and hostile requests — while its RSS, open file
# descriptors and LMDB file size are recorded every minute.
#
#   bench/soak.sh                 SOAK_MINUTES=3 bench/soak.sh
#
# Knobs: SOAK_MINUTES, SOAK_RATE (appended events/s, default 200),
# SOAK_QUERY_RATE (provenance queries/s, default 5), SOAK_HOSTILE_RATE
# (hostile requests/s, default 5), BUILD (default build), SOAK_PORT.
# Passes when no answer was a 5xx other than the designed 503, the number
# of descriptors did not grow, and RSS grew by less than SOAK_RSS_SLACK_KB
# (default 32768) after the first minute's warm-up.
set -u
cd "$(dirname "$0")/.."
minutes=${SOAK_MINUTES:-30}
rate=${SOAK_RATE:-200}
qrate=${SOAK_QUERY_RATE:-5}
hrate=${SOAK_HOSTILE_RATE:-5}
build=${BUILD:-build}
port=${SOAK_PORT:-18480}
slack=${SOAK_RSS_SLACK_KB:-32768}
url=http://127.0.0.1:$port

make --no-print-directory BUILD="$build" build-all "$build/bench/load" >/dev/null || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/ledgerd-soak.XXXXXX")
data=$work/data
echo "soak: $minutes min, $rate events/s, $qrate queries/s, $hrate hostile/s; files in $work"

"$build/ledgerd" serve --data "$data" --listen "127.0.0.1:$port" >"$work/ledgerd.log" 2>&1 &
pid=$!
for i in $(seq 100); do
	[ -s "$data/dev.token" ] && curl -s -o /dev/null "$url/healthz" && break
	sleep 0.1
done
token=$(cat "$data/dev.token")
auth="Authorization: Bearer $token"
children=""

cleanup() {
	for c in $children; do kill "$c" 2>/dev/null; done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
trap cleanup EXIT INT TERM

seconds=$((minutes * 60))
"$build/bench/load" --url "$url" --token "$token" --connections 8 \
	--rate "$rate" --seconds "$seconds" >"$work/load.txt" 2>&1 &
children="$children $!"

# Sleep between requests so that each loop keeps its rate (roughly).
pause() { awk -v r="$1" 'BEGIN { printf "%.3f", 1 / r }'; }

# Provenance queries: subjects, actors and objects the load posts about.
(
	p=$(pause "$qrate")
	n=0
	while :; do
		n=$((n + 1))
		case $((n % 3)) in
		0) path=$(printf '/v1/provenance/subjects/NL-%06d' $((n % 5000))) ;;
		1) path=$(printf '/v1/provenance/actors/police/u%03d' $((n % 200))) ;;
		2) path="/v1/provenance/objects/doc-$((n * 7919))?depth=4" ;;
		esac
		curl -s -o /dev/null -w '%{http_code}\n' -H "$auth" "$url$path"
		sleep "$p"
	done
) >"$work/queries.status" 2>/dev/null &
children="$children $!"

# Hostile requests: malformed and oversized input, wrong methods, broken HTTP.
(
	p=$(pause "$hrate")
	big=$work/big.json
	head -c 200000 /dev/zero | tr '\0' 'x' | sed 's/^/{"type":"/; s/$/"}/' >"$big"
	longhdr=$(head -c 20000 /dev/zero | tr '\0' 'h')
	raw='import socket, sys
for data in (b"GARBAGE \x01\x02\x03\r\n\r\n", b"GET /checkpoint HTTP/1.1\r\nHost: x\r\nX-"):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(3)
    try:
        s.recv(4096)
    except OSError:
        pass
    s.close()'
	n=0
	while :; do
		n=$((n + 1))
		case $((n % 8)) in
		0) curl -s -o /dev/null -w '%{http_code}\n' -H "$auth" \
			-H 'Content-Type: application/json' --data '{"type":' "$url/v1/events" ;;
		1) curl -s -o /dev/null -w '%{http_code}\n' -H "$auth" \
			-H 'Content-Type: application/json' --data @"$big" "$url/v1/events" ;;
		2) curl -s -o /dev/null -w '%{http_code}\n' -H "$auth" \
			-H 'Content-Type: application/json' \
			--data '{"type":"share","seq":5,"actor":{"org":"police","user":"u"}}' \
			"$url/v1/events" ;;
		3) curl -s -o /dev/null -w '%{http_code}\n' -H "X-Long: $longhdr" "$url/checkpoint" ;;
		4) curl -s -o /dev/null -w '%{http_code}\n' -X DELETE -H "$auth" "$url/v1/events/0" ;;
		5) curl -s -o /dev/null -w '%{http_code}\n' -H "$auth" \
			"$url/v1/proof/inclusion?index=99999999999&tree_size=1" ;;
		6) curl -s -o /dev/null -w '%{http_code}\n' --path-as-is "$url/tile/0/../../etc/passwd" ;;
		7) # raw garbage, then a request cut off mid-header
			timeout 5 python3 -c "$raw" "$port" >/dev/null 2>&1
			echo raw ;;
		esac
		sleep "$p"
	done
) >"$work/hostile.status" 2>/dev/null &
children="$children $!"

# One sample a minute: RSS, descriptors, LMDB file size, tree size.
echo "minute,rss_kb,anon_kb,fds,lmdb_bytes,tree_size" >"$work/samples.csv"
sample() {
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
	size=$(stat -c %s "$data/ledger.mdb" 2>/dev/null)
	tree=$(curl -s "$url/checkpoint" | sed -n 2p)
	echo "$1,${rss:-0},${anon:-0},$fds,${size:-0},${tree:-0}" | tee -a "$work/samples.csv"
}
echo "minute,rss_kb,anon_kb,fds,lmdb_bytes,tree_size"
for m in $(seq 0 "$minutes"); do
	[ "$m" -gt 0 ] && sleep 60
	kill -0 "$pid" 2>/dev/null || { echo "soak: ledgerd died"; break; }
	sample "$m"
done
for c in $children; do kill "$c" 2>/dev/null; done
children=""
sleep 2

echo "--- load"
cat "$work/load.txt"
echo "--- answers of the query and hostile loops (status count)"
cat "$work/queries.status" "$work/hostile.status" | sort | uniq -c | sort -rn
bad5xx=$(cat "$work/queries.status" "$work/hostile.status" | grep -c '^5' | tr -d ' ')
d503=$(cat "$work/queries.status" "$work/hostile.status" | grep -c '^503' | tr -d ' ')
bad5xx=$((bad5xx - d503))
load5xx=$(sed -n 's/.*5xx \([0-9]*\).*/\1/p' "$work/load.txt")
kill -0 "$pid" 2>/dev/null && alive=1 || alive=0

# Growth after warm-up: minute 1 against the last minute.
first=$(sed -n 3p "$work/samples.csv")
last=$(tail -n 1 "$work/samples.csv")
rss1=$(echo "$first" | cut -d, -f3); rssN=$(echo "$last" | cut -d, -f3)
fd1=$(echo "$first" | cut -d, -f4); fdN=$(echo "$last" | cut -d, -f4)
db1=$(echo "$first" | cut -d, -f5); dbN=$(echo "$last" | cut -d, -f5)
t1=$(echo "$first" | cut -d, -f6); tN=$(echo "$last" | cut -d, -f6)
echo "--- growth from minute 1 to the end (RSS: anonymous memory; the"
echo "    mapped database's pages count in VmRSS and grow with the data)"
echo "rss (anon): ${rss1:-?} -> ${rssN:-?} kB; fds: ${fd1:-?} -> ${fdN:-?}"
if [ -n "$tN" ] && [ -n "$t1" ] && [ "$tN" -gt "$t1" ]; then
	echo "lmdb: $db1 -> $dbN bytes for $((tN - t1)) more entries" \
		"($(( (dbN - db1) / (tN - t1) )) bytes/entry)"
fi
fail=0
[ "$alive" = 1 ] || { echo "FAIL: ledgerd is not running"; fail=1; }
[ "$bad5xx" -eq 0 ] || { echo "FAIL: $bad5xx 5xx answers other than 503 from curl"; fail=1; }
[ "${load5xx:-0}" -eq 0 ] || echo "note: bench/load saw ${load5xx} 5xx (503 overloaded counts here)"
if [ -n "${fd1:-}" ] && [ "$fdN" -gt $((fd1 + 4)) ]; then
	echo "FAIL: descriptors grew from $fd1 to $fdN"; fail=1
fi
if [ -n "${rss1:-}" ] && [ "$rssN" -gt $((rss1 + slack)) ]; then
	echo "FAIL: RSS grew by $((rssN - rss1)) kB (slack $slack)"; fail=1
fi
grep -E ' (warn|error): ' "$work/ledgerd.log" | sort | uniq -c | sort -rn | head -n 10
[ "$fail" = 0 ] && echo "soak: PASS" || echo "soak: FAIL (files kept in $work)"
[ "$fail" = 0 ] && rm -rf "$work"
exit "$fail"
