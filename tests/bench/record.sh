#!/usr/bin/env bash
# record.sh NAME < markdown : replace the section NAME of docs/benchmarks.md with stdin.
# Each benchmark owns one section between <!-- bench:NAME --> and <!-- /bench:NAME -->.
set -euo pipefail
name=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
doc=$top/docs/benchmarks.md
body=$(mktemp)
trap 'rm -f "$body" "$body.new"' EXIT
cat >"$body"
[ -f "$doc" ] || printf '# Benchmarks\n\nFigures written by the programs in `tests/bench/`; each section says how it was run.\n' >"$doc"
if grep -q "^<!-- bench:$name -->$" "$doc"; then
	awk -v name="$name" -v body="$body" '
		$0 == "<!-- bench:" name " -->" { print; while ((getline l < body) > 0) print l; skip = 1; next }
		$0 == "<!-- /bench:" name " -->" { skip = 0 }
		!skip { print }' "$doc" >"$body.new"
else
	{ cat "$doc"; printf '\n<!-- bench:%s -->\n' "$name"; cat "$body"; printf '<!-- /bench:%s -->\n' "$name"; } >"$body.new"
fi
mv "$body.new" "$doc"
