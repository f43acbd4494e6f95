#!/bin/sh
# lint.sh - a checksrc-style pass over the C sources: banned functions, a first
# comment in every file, no line over 100 columns.
set -u
status=0
files=$(find common gatewayd senderd webhookd billingd tgmctl tests/unit tests/tools bench -name '*.[ch]' | sort)
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\('
if grep -nE "$banned" $files; then
	echo "lint: banned function (use snprintf, strtol, ...)"; status=1
fi
for f in $files; do
	head -1 "$f" | grep -q '^/\*' || { echo "lint: $f: must open with a comment saying its job"; status=1; }
	awk -v f="$f" 'length($0) > 100 { print "lint: " f ":" NR ": line over 100 columns"; bad=1 } END { exit bad }' \
		"$f" || status=1
done
exit $status
