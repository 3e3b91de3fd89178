#!/bin/sh
# The append targets side by side, for one or more ledgerd builds: each run
# starts a fresh log (a config file: one writer of org police) and measures,
# against the same daemon build and on the same machine,
#
#	healthz	GET /healthz over 64 keep-alive connections: what HTTP alone
#		costs here, the yardstick of the next figure
#	single	durable single appends over 64 keep-alive connections
#	batch	batches of 1,000 events over 8 connections
#	paced	single appends paced at 5,000 events/s over 64 connections,
#		with two `ledgerd witness` on loopback in the log's policy
#		(quorum of both)
#
# SCENARIOS (default all four, in that order) picks some of them; the
# ratio is printed when both healthz and single ran.
# RUNS (default 5) rounds; in each round every build runs every scenario
# in turn, so a slow stretch of a shared machine hits all alike.  Prints the
# medians per build and scenario (with the daemon's CPU, user + system, per
# request answered: steadier than the rates on a busy machine), the
# single/healthz ratio of each build (median of the per-round ratios), and
# every run.
#
#	bench/targets.sh LEDGERD [LEDGERD...]	(after `make bench`; the load
#						 generator is BUILD/bench/load)
set -eu
build=${BUILD:-build}
runs=${RUNS:-5}
seconds=${SECONDS_PER_RUN:-5}
load=$build/bench/load
[ $# -ge 1 ] || { echo "usage: bench/targets.sh LEDGERD [LEDGERD...]" >&2; exit 2; }
[ -x "$load" ] || { echo "build first: make && make bench" >&2; exit 2; }

work=$(mktemp -d /var/tmp/ledgerd-targets.XXXXXX)
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
origin=bench.example.org/targets
token=bench-writer-token-0123456789abcdef
token_sha=$(printf %s "$token" | openssl dgst -sha256 -r | cut -d' ' -f1)
"$1" keygen --out "$work/log.key" --name "$origin" >"$work/keygen"
log_vkey=$(grep -o "$origin+[^ ]*" "$work/keygen" | head -n 1)

# start_witness LEDGERD NAME: prints its port
start_witness() {
	rm -rf "$work/$2"
	mkdir "$work/$2"
	"$1" witness --data "$work/$2/data" --listen 127.0.0.1:0 \
	    --name "$2.bench.example.org" --log "$log_vkey" \
	    >"$work/$2/log" 2>&1 &
	echo $! >"$work/$2/pid"
	wait_listening "$work/$2/log" >&2 || exit 1
	listening_port "$work/$2/log"
}

# one LEDGERD SCENARIO: prints "rate|p50|p99|cpu" (cpu: µs per request)
one() {
	bin=$1
	rm -rf "$work/data"
	mkdir -m 700 "$work/data"
	cp "$work/log.key" "$work/data/log.key"
	chmod 600 "$work/data/log.key"
	witnesses=
	if [ "$2" = paced ]; then
		p1=$(start_witness "$bin" w1)
		p2=$(start_witness "$bin" w2)
		cat >"$work/witnesses.policy" <<EOP
witness w1 $(cat "$work/w1/data/witness.vkey") http://127.0.0.1:$p1
witness w2 $(cat "$work/w2/data/witness.vkey") http://127.0.0.1:$p2
group both all w1 w2
quorum both
EOP
		witnesses='"witnesses": {"policy": "witnesses.policy"},'
	fi
	cat >"$work/ledgerd.json" <<EOC
{
  "listen": "127.0.0.1:0",
  "data": "$work/data",
  "origin": "$origin",
  $witnesses
  "principals": [
    {"id": "police-app", "org": "police", "roles": ["writer", "operator"], "token_sha256": "$token_sha"}
  ]
}
EOC
	"$bin" serve --config "$work/ledgerd.json" >"$work/out" 2>"$work/log" &
	pid=$!
	wait_listening "$work/log" || exit 1
	port=$(listening_port "$work/log")
	if [ -z "$port" ]; then
		echo "no port in ledgerd's start line ($bin):" >&2
		cat "$work/log" >&2
		exit 1
	fi
	case $2 in
	healthz) args="--connections 64 --get /healthz" ;;
	single) args="--connections 64" ;;
	batch) args="--connections 8 --batch 1000" ;;
	paced) args="--connections 64 --rate 5000" ;;
	esac
	# shellcheck disable=SC2086
	"$load" --url "http://127.0.0.1:$port" --token "$token" --org police \
	    --seconds "$seconds" $args >"$work/run" 2>&1 || true
	# The daemon's own CPU (clock ticks, the keeper's excluded) so far.
	ticks=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
	kill $pid
	wait $pid 2>/dev/null || true
	pid=
	stop_witnesses
	awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v b="${args#*--batch }" '
	    /^events\/s:/ { r = $2 } /^requests\/s:/ { q = $2 }
	    /^latency ms:/ { p50 = $4; p99 = $8 }
	    /^answers:/ { n = $3 + 0 }
	    END {
		if (b + 0 > 0) n *= b	# per event of a batch
		printf "%s|%s|%s|%.1f\n", (r > 0 ? r : q), p50, p99,
		    (n > 0 ? t / hz / n * 1e6 : 0)
	    }' "$work/run"
}

scenarios=${SCENARIOS:-healthz single batch paced}
for i in $(seq "$runs"); do
	b=0
	for bin in "$@"; do
		b=$((b + 1))
		for s in $scenarios; do
			echo "$(one "$bin" "$s")" >>"$work/$b.$s"
		done
		[ -f "$work/$b.healthz" ] && [ -f "$work/$b.single" ] || continue
		h=$(tail -n 1 "$work/$b.healthz" | cut -d'|' -f1)
		a=$(tail -n 1 "$work/$b.single" | cut -d'|' -f1)
		awk -v a="$a" -v h="$h" 'BEGIN { printf "%.3f\n", (h > 0 ? a / h : 0) }' \
		    >>"$work/$b.ratio"
	done
done

# median FILE FIELD
median() {
	cut -d'|' -f"$2" "$1" | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2)'
}
echo "append targets: $runs rounds of ${seconds}s per scenario, medians"
b=0
for bin in "$@"; do
	b=$((b + 1))
	echo "$bin"
	for s in $scenarios; do
		printf '  %-8s %9s /s  p50 %6s ms  p99 %6s ms  CPU %6s us  (runs: %s)\n' "$s" \
		    "$(median "$work/$b.$s" 1)" "$(median "$work/$b.$s" 2)" \
		    "$(median "$work/$b.$s" 3)" "$(median "$work/$b.$s" 4)" \
		    "$(cut -d'|' -f1 "$work/$b.$s" | sort -n | tr '\n' ' ' | sed 's/ $//')"
	done
	[ -f "$work/$b.ratio" ] || continue
	printf '  single/healthz ratio %s  (rounds: %s)\n' "$(median "$work/$b.ratio" 1)" \
	    "$(sort -n "$work/$b.ratio" | tr '\n' ' ' | sed 's/ $//')"
done
