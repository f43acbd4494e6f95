#!/bin/sh
# run.sh - run each unit test program, add up their "N passed, N failed" lines,
# and exit non-zero if any failed or crashed.
set -u
passed=0 failed=0 status=0
for t in "$@"; do
	out=$("$t") || status=1
	echo "$out"
	p=$(echo "$out" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$out" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		echo "$t: crashed or printed no summary"
		status=1
		continue
	fi
	passed=$((passed + p)) failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
