#!/usr/bin/env bash
# Compiles klink into one executable, dist/klink, with librdkafka embedded and the git commit it
# was built from (`klink --version`; "+dirty" when the tree has changes git does not ignore).
# KLINK_OUT picks another output path (scripts/release.sh builds twice to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -e native/librdkafka.so ] || bash scripts/build-librdkafka.sh
OUT="${KLINK_OUT:-dist/klink}"
COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain 2>/dev/null)" ] || COMMIT="$COMMIT+dirty"
mkdir -p "$(dirname "$OUT")"
npx bun build --compile --minify-syntax --minify-whitespace --define "KLINK_BUILD_COMMIT=\"$COMMIT\"" \
  src/cli.ts --outfile "$OUT" >/dev/null
echo "[build] $OUT ($(du -h "$OUT" | cut -f1), commit $COMMIT)" >&2
