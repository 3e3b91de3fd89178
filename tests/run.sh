#!/bin/sh
# Runs each test program given, adds up their `N passed, N failed` lines and
# ends with the total.  A program that crashes or prints no summary counts as
# one failed test, and so does one that exits non-zero after a clean summary.
passed=0
failed=0
for t in "$@"; do
	name=$(basename "$t")
	echo "== $name"
	out=$(mktemp)
	# The exit status travels through a file: a pipeline's is tee's.
	{ { "$t" 2>&1; echo $? >&3; } | tee "$out"; } 3>"$out.code"
	code=$(cat "$out.code")
	status=$(tail -n 1 "$out")
	rm -f "$out" "$out.code"
	p=$(echo "$status" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$status" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "$name: exited without a summary line"
		failed=$((failed + 1))
	else
		passed=$((passed + p))
		failed=$((failed + f))
		# A clean summary with a failing exit (a leak report at exit,
		# a crash in a destructor) still fails.
		if [ "$f" -eq 0 ] && [ "$code" -ne 0 ]; then
			echo "$name: exited with status $code after its summary"
			failed=$((failed + 1))
		fi
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
