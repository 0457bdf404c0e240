#!/usr/bin/env bash
# The test command of the README: set up (apt, npm, librdkafka, dist/klink; a quick no-op when
# done), start the real Kafka test clusters, run `bun test`, stop the clusters (also on failure
# or Ctrl-C), and end with one line "N passed, N failed[, N skipped]". Exit code != 0 on any failure.
# Arguments are passed to `bun test` (e.g. a path filter: npm test -- test/rdkafka).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

stop_clusters() { npx bun test/harness/cli.ts down >/dev/null 2>&1 || true; }
trap stop_clusters EXIT
trap 'exit 130' INT TERM

if ! npx bun test/harness/cli.ts up --three; then
  echo "the Kafka test clusters did not start (see above)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

LOG=$(mktemp)
npx bun test --timeout 300000 "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}

# bun test's own summary: " 12 pass", " 0 fail", " 1 skip" (skip/todo only when present).
count() { sed -n "s/^ *\([0-9][0-9]*\) $1\$/\1/p" "$LOG" | tail -1; }
passed=$(count pass); failed=$(count fail); skipped=$(count skip); todo=$(count todo)
passed=${passed:-0}; failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
line="$passed passed, $failed failed"
skipped=$(( ${skipped:-0} + ${todo:-0} ))
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
# A CI log is often read only from its end: repeat what each failing test printed last (bun
# prints a test's error just before its "(fail)" line), so the reason is next to the count.
if [ "$failed" -gt 0 ]; then
  echo
  echo "---- the failing tests' last output (repeated from above) ----"
  grep -B 40 '^(fail)' "$LOG" | grep -v '^(pass)' | head -150
  echo "----"
fi
rm -f "$LOG"
echo "$line"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
