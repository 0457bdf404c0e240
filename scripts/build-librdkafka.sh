#!/usr/bin/env bash
# Builds librdkafka from the source that @confluentinc/kafka-javascript ships (deps/librdkafka)
# into ${KLINK_CACHE:-~/.cache/klink}/librdkafka-<version>-<hash>/librdkafka.so.1, and links it
# as native/librdkafka.so for the executable build. A no-op when that build already exists.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[librdkafka] $*" >&2; }

SRC=node_modules/@confluentinc/kafka-javascript/deps/librdkafka
[ -f "$SRC/src/rdkafka.h" ] || { echo "librdkafka source not found at $SRC: run 'npm install' first" >&2; exit 1; }
CACHE="${KLINK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/klink}"
HEX=$(sed -n 's/^#define RD_KAFKA_VERSION *0x\([0-9a-fA-F]\{8\}\).*/\1/p' "$SRC/src/rdkafka.h")
VERSION="$((16#${HEX:0:2})).$((16#${HEX:2:2})).$((16#${HEX:4:2}))"
# Fixes klink needs before librdkafka ships them, one patch per defect (each names the test that shows it).
PATCHES="$PWD/scripts/librdkafka-patches"
# The hash covers the sources, this script and the patches, so a new package, new flags or a new patch rebuild.
HASH=$( (cd "$SRC" && find src -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort | xargs cat; cat "$OLDPWD/$0" "$PATCHES"/*.patch) | sha256sum | cut -c1-12)
OUT="$CACHE/librdkafka-$VERSION-$HASH"

if [ ! -f "$OUT/librdkafka.so.1" ]; then
  say "building librdkafka $VERSION into $OUT (takes a few minutes)"
  BUILD=$(mktemp -d)
  trap 'rm -rf "$BUILD"' EXIT
  cp -r "$SRC/." "$BUILD/"
  for p in "$PATCHES"/*.patch; do
    (cd "$BUILD" && patch -p1 --quiet < "$p") || { echo "librdkafka patch $p does not apply to librdkafka $VERSION" >&2; exit 1; }
  done
  # The shipped tree carries a config.h/.d files from the publisher's machine: start clean.
  (cd "$BUILD" && find . -name "*.o" -o -name "*.d" -o -name "*.a" -o -name "librdkafka*.so*" | xargs rm -f && rm -f config.h config.cache Makefile.config \
    && ./configure --disable-curl \
         >"$BUILD/klink-configure.txt" 2>&1 \
    || { tail -40 "$BUILD/klink-configure.txt" >&2; exit 1; })
  (cd "$BUILD/src" && make -j"$(nproc)" librdkafka.so.1 >"$BUILD/klink-make.txt" 2>&1) \
    || { tail -40 "$BUILD/klink-make.txt" >&2; exit 1; }
  mkdir -p "$OUT.tmp"
  cp "$BUILD/src/librdkafka.so.1" "$OUT.tmp/"
  strip --strip-unneeded "$OUT.tmp/librdkafka.so.1"
  grep -E '^#define (WITH|ENABLE)_' "$BUILD/config.h" > "$OUT.tmp/features.txt" 2>/dev/null || true
  rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
fi
mkdir -p native
ln -sfn "$OUT/librdkafka.so.1" native/librdkafka.so
say "librdkafka $VERSION: native/librdkafka.so -> $OUT/librdkafka.so.1"
