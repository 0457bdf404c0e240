#!/usr/bin/env bash
# Compiles klink into one executable, dist/klink, with librdkafka embedded.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -e native/librdkafka.so ] || bash scripts/build-librdkafka.sh
mkdir -p dist
npx bun build --compile --minify-syntax --minify-whitespace src/cli.ts --outfile dist/klink >/dev/null
echo "[build] dist/klink ($(du -h dist/klink | cut -f1))" >&2
