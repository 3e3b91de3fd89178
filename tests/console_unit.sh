#!/bin/sh
# The console's verification code (console/js/verify.js) under Node's own
# test runner, its TAP totals turned into the runner's `N passed, N failed`.
cd "$(dirname "$0")/.." || exit 1
out=$(mktemp)
node --test --test-reporter=tap console/test/ >"$out" 2>&1
code=$?
grep -E '^(not ok|# Subtest|ok) ' "$out" | grep -v '^# Subtest' | sed 's/^/  /'
grep -A20 '^not ok' "$out" | head -60
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out")
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out")
rm -f "$out"
if [ -z "$pass" ]; then
	echo "node --test gave no totals (exit $code)"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$code" -eq 0 ]
