#!/bin/sh
# What witnessing costs appends: the same load (64 keep-alive connections of
# single appends, one writer) against a log without witnesses and against
# the same log with two witnesses in its policy (two `ledgerd witness` on
# loopback, quorum of both), alternating, RUNS times each (default 5); the
# medians of events/s, p99 latency and the log process's CPU per event
# appended (its own cost, apart from the witnesses', which share this
# machine here but not in a real deployment) are printed side by side.  Each run
# starts from a fresh data directory (same log key) and fresh witnesses.
# INTERVAL_MS (default 5000, the daemon's default) is the checkpoint
# interval: lower it to push to the witnesses more often than a real log
# would.
#
#	bench/witness.sh [build-dir]		(after `make bench`)
set -eu
build=${1:-build}
runs=${RUNS:-5}
seconds=${SECONDS_PER_RUN:-5}
interval=${INTERVAL_MS:-5000}
ledgerd=$build/ledgerd
load=$build/bench/load
[ -x "$ledgerd" ] && [ -x "$load" ] || { echo "build first: make && make bench" >&2; exit 2; }

work=$(mktemp -d)
pid=
# Witnesses start in a command substitution: their pids are in files.
stop_witnesses() {
	stop_pidfiles "$work"/w1/pid "$work"/w2/pid
}
cleanup() {
	[ -n "$pid" ] && kill $pid 2>/dev/null
	stop_witnesses
	rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "$0")/daemons.sh"
origin=bench.example.org/witnessed
token=bench-writer-token-0123456789abcdef
token_sha=$(printf %s "$token" | openssl dgst -sha256 -r | cut -d' ' -f1)
"$ledgerd" keygen --out "$work/log.key" --name "$origin" >"$work/keygen"
log_vkey=$(grep -o "$origin+[^ ]*" "$work/keygen" | head -n 1)

# start_witness NAME: a fresh ledgerd witness; prints its port, and leaves
# its verifier key in $work/NAME/data/witness.vkey
start_witness() {
	rm -rf "$work/$1"
	mkdir "$work/$1"
	"$ledgerd" witness --data "$work/$1/data" --listen 127.0.0.1:0 \
	    --name "$1.bench.example.org" --log "$log_vkey" \
	    >"$work/$1/log" 2>&1 &
	echo $! >"$work/$1/pid"
	wait_listening "$work/$1/log" >&2 || exit 1
	listening_port "$work/$1/log"
}

# config NAME WITNESSES-JSON
config() {
	cat >"$work/$1.json" <<EOC
{
  "listen": "127.0.0.1:0",
  "data": "$work/data",
  "origin": "$origin",
  "checkpoint_interval_ms": $interval,
  $2
  "principals": [
    {"id": "police-app", "org": "police", "roles": ["writer", "operator"], "token_sha256": "$token_sha"}
  ]
}
EOC
}

# one NAME: one run; prints "events/s|p99 ms|pushes"
one() {
	rm -rf "$work/data"
	mkdir -m 700 "$work/data"
	cp "$work/log.key" "$work/data/log.key"
	chmod 600 "$work/data/log.key"
	if [ "$1" = witnessed ]; then
		p1=$(start_witness w1)
		p2=$(start_witness w2)
		cat >"$work/witnesses.policy" <<EOP
witness w1 $(cat "$work/w1/data/witness.vkey") http://127.0.0.1:$p1
witness w2 $(cat "$work/w2/data/witness.vkey") http://127.0.0.1:$p2
group both all w1 w2
quorum both
EOP
		config witnessed "\"witnesses\": {\"policy\": \"witnesses.policy\"},"
	else
		config plain ""
	fi
	"$ledgerd" serve --config "$work/$1.json" >"$work/out" 2>"$work/log" &
	pid=$!
	wait_listening "$work/log" || exit 1
	port=$(listening_port "$work/log")
	"$load" --url "http://127.0.0.1:$port" --token "$token" --org police \
	    --connections 64 --seconds "$seconds" >"$work/run" 2>&1 || true
	rate=$(awk '/^events\/s:/ { print $2 }' "$work/run")
	p99=$(awk '/^latency ms:/ { print $8 }' "$work/run")
	pushes=$(curl -s -H "Authorization: Bearer $token" \
	    "http://127.0.0.1:$port/metrics" |
	    awk '/^ledgerd_cosigning_pushes_total/ { n += $2 } END { print n + 0 }')
	# The log's own CPU (user + system, in clock ticks) per event appended.
	ticks=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
	hz=$(getconf CLK_TCK)
	cpu=$(awk -v t="$ticks" -v hz="$hz" -v r="$rate" -v s="$seconds" \
	    'BEGIN { printf "%.1f", (r > 0 ? t / hz / (r * s) * 1e6 : 0) }')
	kill $pid
	wait $pid 2>/dev/null || true
	pid=
	stop_witnesses
	echo "$rate|$p99|$pushes|$cpu"
}

: >"$work/plain"
: >"$work/witnessed"
for i in $(seq "$runs"); do
	one plain >>"$work/plain"
	one witnessed >>"$work/witnessed"
done

# median FILE FIELD
median() {
	cut -d'|' -f"$2" "$1" | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2)'
}
echo "witnessing cost: $runs runs of ${seconds}s each, alternating, checkpoint interval $interval ms"
for side in plain witnessed; do
	printf '%-22s %8s events/s  p99 %6s ms  log CPU %5s us/event  (runs: %s; pushes per run: %s)\n' \
	    "$([ $side = plain ] && echo "no witnesses" || echo "two witnesses")" \
	    "$(median "$work/$side" 1)" "$(median "$work/$side" 2)" \
	    "$(median "$work/$side" 4)" \
	    "$(cut -d'|' -f1 "$work/$side" | sort -n | tr '\n' ' ' | sed 's/ $//')" \
	    "$(cut -d'|' -f3 "$work/$side" | tr '\n' ' ' | sed 's/ $//')"
done
