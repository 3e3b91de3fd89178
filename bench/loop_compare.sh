#!/bin/sh
# Two ledgerd builds under build/bench/loop_latency, one run each in turn,
# RUNS (5) times, so that a noisy machine weighs on both alike; then per
# load kind the median of the runs of each: /healthz p50, p99 and worst
# latency in ms, and the heavy requests' rate.
#
#	bench/loop_compare.sh BEFORE_LEDGERD AFTER_LEDGERD [ENTRIES]
#
# (after `make bench`; SECONDS, CONNS, RATE and KINDS pass through to
# loop_latency.)
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BEFORE_LEDGERD AFTER_LEDGERD [ENTRIES]" >&2; exit 2; }
before=$1
after=$2
entries=${3:-100000}
runs=${RUNS:-5}
bench=$(dirname "$0")/../build/bench/loop_latency
[ -x "$bench" ] || { echo "build first: make && make bench" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq "$runs"); do
	for which in before after; do
		bin=$before
		[ "$which" = after ] && bin=$after
		RUNS=1 LEDGERD_BIN=$bin "$bench" "$entries" >"$out/run" 2>&1 ||
		    { cat "$out/run" >&2; exit 1; }
		grep '^run 1 ' "$out/run" | sed "s/^run 1 /$which /" >>"$out/all"
		grep '^run 1 ' "$out/run" | sed "s/^run 1 /$which $i /"
	done
done
echo
echo "medians of $runs runs each (ms; heavy requests/s, appends events/s):"
# before|after KIND /healthz p50 X ms p99 Y ms max Z ms (N probes) heavy R ...
awk '{ print $1, $2, $5, $8, $11, $16 }' "$out/all" | sort -k1,1 -k2,2 |
awk -v n="$runs" '
	function med(a, k,   i, j, t) {
		for (i = 1; i <= k; i++)
			for (j = i + 1; j <= k; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((k + 1) / 2)]
	}
	{
		key = $1 " " $2
		c[key]++
		p50[key, c[key]] = $3; p99[key, c[key]] = $4
		mx[key, c[key]] = $5; rate[key, c[key]] = $6
		keys[key] = 1
	}
	END {
		for (key in keys) {
			k = c[key]
			for (i = 1; i <= k; i++) {
				a1[i] = p50[key, i]; a2[i] = p99[key, i]
				a3[i] = mx[key, i]; a4[i] = rate[key, i]
			}
			printf "%-16s p50 %7.2f  p99 %7.2f  max %7.2f  heavy %9.2f\n",
			    key, med(a1, k), med(a2, k), med(a3, k), med(a4, k)
		}
	}' | sort -k2,2 -k1,1
