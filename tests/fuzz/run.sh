#!/bin/sh
# Runs each fuzz harness given: first over its saved corpus
# (tests/fuzz/corpus/<name>/, never modified here), then fuzzing for at
# most RUNS inputs or SECONDS seconds, new inputs going to a scratch
# directory.  A crash leaves its input in build/fuzz/artifacts/; copy it
# into the corpus with the fix so that it stays found.
#
#   tests/fuzz/run.sh [-r RUNS] [-t SECONDS] HARNESS...
set -u
runs=2000
secs=20
while getopts r:t: opt; do
	case $opt in
	r) runs=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [-t SECONDS] HARNESS..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
here=$(cd "$(dirname "$0")" && pwd)
artifacts=${FUZZ_ARTIFACTS:-build/fuzz/artifacts}
mkdir -p "$artifacts"
passed=0
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=$here/corpus/$name
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
	log=$scratch.log
	[ -d "$corpus" ] || mkdir -p "$corpus"
	# Leaks are checked per input (-detect_leaks) and at exit.
	if "$bin" -runs="$runs" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/$name-" "$scratch" "$corpus" >"$log" 2>&1; then
		stats=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n 1)
		eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		echo "ok   $name: ${stats:-no stats}; ${eps:-?} exec/s"
		passed=$((passed + 1))
	else
		echo "FAIL $name (input saved under $artifacts/); last lines:"
		tail -n 40 "$log"
		failed=$((failed + 1))
	fi
	rm -rf "$scratch" "$log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
