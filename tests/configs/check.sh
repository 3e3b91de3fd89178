#!/bin/sh
# Runs `ledgerd serve --check` on every sample configuration here: ok-*.json
# must say "configuration OK" and exit 0; bad-*.json must exit non-zero with
# the substring of its bad-*.expect in the output.  See README.
ledgerd=${1:-$LEDGERD_BIN}
dir=$(dirname "$0")
if [ -z "$ledgerd" ] || [ ! -x "$ledgerd" ]; then
	echo "usage: check.sh LEDGERD (or set LEDGERD_BIN)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0
for f in "$dir"/ok-*.json "$dir"/bad-*.json; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .json)
	out=$("$ledgerd" serve --check --config "$f" --data "$scratch/data" 2>&1)
	status=$?
	case $name in
	ok-*)
		if [ $status -eq 0 ] && printf '%s\n' "$out" | grep -qF "configuration OK"; then
			passed=$((passed + 1))
		else
			echo "$name: expected \"configuration OK\", got (exit $status): $out"
			failed=$((failed + 1))
		fi
		;;
	bad-*)
		expect="$dir/$name.expect"
		if [ ! -f "$expect" ]; then
			echo "$name: no $name.expect"
			failed=$((failed + 1))
			continue
		fi
		want=$(head -n 1 "$expect")
		if [ $status -ne 0 ] && printf '%s\n' "$out" | grep -qF -- "$want"; then
			passed=$((passed + 1))
		else
			echo "$name: expected an error containing \"$want\", got (exit $status): $out"
			failed=$((failed + 1))
		fi
		;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
