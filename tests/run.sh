#!/bin/sh
# Runs each test program given, adds up their `N passed, N failed` lines and
# ends with the total.  A program that crashes or prints no summary counts as
# one failed test.
passed=0
failed=0
for t in "$@"; do
	name=$(basename "$t")
	echo "== $name"
	out=$(mktemp)
	"$t" 2>&1 | tee "$out"
	status=$(tail -n 1 "$out")
	rm -f "$out"
	p=$(echo "$status" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$status" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "$name: exited without a summary line"
		failed=$((failed + 1))
	else
		passed=$((passed + p))
		failed=$((failed + f))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
