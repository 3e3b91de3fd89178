#!/bin/sh
# Append throughput and latency of a real ledgerd on loopback, load generator
# included on the same machine.  Each scenario runs RUNS times (default 5)
# against a fresh data directory; the median line of each is printed, with
# the group-commit sizes seen and the daemon's peak RSS.
#
#	bench/append.sh [build-dir]		(after `make bench`)
set -eu
build=${1:-build}
runs=${RUNS:-5}
seconds=${SECONDS_PER_RUN:-5}
ledgerd=$build/ledgerd
load=$build/bench/load
[ -x "$ledgerd" ] && [ -x "$load" ] || { echo "build first: make && make bench" >&2; exit 2; }

work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/daemons.sh"

start_daemon() {
	rm -rf "$work/data"
	"$ledgerd" serve --data "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
	pid=$!
	wait_listening "$work/log" || exit 1
	port=$(listening_port "$work/log")
	token=$(cat "$work/data/dev.token")
}

metric() {
	curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/metrics" |
	    awk -v m="$1" '$1 == m { print $2 }'
}

# scenario NAME LOAD-ARGS...: median of events/s, with its latency line
scenario() {
	name=$1
	shift
	: >"$work/results"
	for i in $(seq "$runs"); do
		start_daemon
		"$load" --url "http://127.0.0.1:$port" --token "$token" \
		    --seconds "$seconds" "$@" >"$work/run" 2>&1 || true
		rate=$(awk '/^events\/s:/ { print $2 }' "$work/run")
		lat=$(grep '^latency' "$work/run")
		commits=$(metric ledgerd_commits_total)
		appended=$(metric ledgerd_appends_total)
		rss=$(awk '/VmHWM/ { print $2 }' /proc/$pid/status)
		echo "$rate|$lat|$commits|$appended|$rss" >>"$work/results"
		kill $pid
		wait $pid 2>/dev/null || true
	done
	sort -n -t'|' -k1 "$work/results" | awk -F'|' -v n="$runs" -v name="$name" '
	    NR == int((n + 1) / 2) {
		printf "%-34s %8d events/s  %s  events/commit %.1f  peak RSS %d KiB\n",
		    name, $1, $2, ($3 > 0 ? $4 / $3 : 0), $5
	    }'
	printf '%-34s all runs (events/s): %s\n' "" "$(cut -d'|' -f1 "$work/results" | sort -n | tr '\n' ' ')"
}

echo "ledgerd append benchmark: $runs runs of ${seconds}s each, medians"
scenario "single, 64 connections" --connections 64
scenario "single, 64 conns, wait=checkpoint" --connections 64 --wait
scenario "batch of 1000, 8 connections" --connections 8 --batch 1000
scenario "single, paced 5000/s, 64 conns" --connections 64 --rate 5000
scenario "baseline: GET /healthz, 64 conns" --connections 64 --get /healthz
