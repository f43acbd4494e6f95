#!/bin/sh
# lint.sh - a checksrc-style pass over the C sources: banned functions, a first
# comment in every file, no line over 100 characters, the layout of .clang-format
# (`make format` applies it), database connections only through common/dbconn.h, a
# `name - what` comment above every static function (scripts/comments.py); then
# docs/openapi.yaml through @redocly/cli lint (errors fail, warnings are shown).
set -u
status=0
files=$(find common gatewayd senderd webhookd billingd tgmctl tests/unit tests/tools tests/fuzz bench -name '*.[ch]' | sort)
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\('
if grep -nE "$banned" $files; then
	echo "lint: banned function (use snprintf, strtol, ...)"; status=1
fi
# a daemon's connections are chosen in one place (common/dbconn.c: pooled or session)
direct=$(echo "$files" | grep -E '^(gatewayd|senderd|webhookd|billingd|tgmctl)/')
if grep -nE '\b(tgm_pg_new|tgm_db_connect)\(' $direct; then
	echo "lint: connect through common/dbconn.h (tgm_dbconn_async, tgm_dbconn_sync)"; status=1
fi
for f in $files; do
	head -1 "$f" | grep -q '^/\*' || { echo "lint: $f: must open with a comment saying its job"; status=1; }
done
# characters, not bytes: clang-format counts a Cyrillic letter as one column
python3 -c '
import sys
bad = 0
for f in sys.argv[1:]:
    for n, line in enumerate(open(f, encoding="utf-8").read().split("\n"), 1):
        if len(line) > 100:
            print("lint: %s:%d: line over 100 columns" % (f, n))
            bad = 1
sys.exit(bad)' $files || status=1
# the layout is .clang-format's (clang-format 14); make format rewrites the files to it
if ! command -v clang-format >/dev/null 2>&1; then
	echo "lint: clang-format is missing: the Debian package clang-format (sh scripts/deps.sh test)"
	status=1
else
	unformatted=$(clang-format --dry-run $files 2>&1 |
		sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: code should be clang-formatted.*/\1/p' | uniq)
	if [ -n "$unformatted" ]; then
		echo "$unformatted" | sed 's/^/lint: not laid out as .clang-format says: /'
		echo "lint: run make format"
		status=1
	fi
fi
# every static function has a `name - what` comment above it
python3 scripts/comments.py $(find common gatewayd senderd webhookd billingd tgmctl -name '*.[ch]' | sort) ||
	{ echo "lint: say above each static function what it does (/* name - what */)"; status=1; }
redocly=tests/node_modules/.bin/redocly
if [ ! -x "$redocly" ]; then
	echo "lint: $redocly is missing: the npm package @redocly/cli (npm ci --prefix tests)"
	status=1
elif ! out=$("$redocly" lint --format=stylish docs/openapi.yaml 2>&1); then
	# redocly prints a Node.js deprecation banner on some versions: only its verdict matters
	echo "$out" | grep -v "DeprecationWarning\|node --trace-deprecation"
	echo "lint: docs/openapi.yaml has errors (@redocly/cli lint)"
	status=1
fi
exit $status
