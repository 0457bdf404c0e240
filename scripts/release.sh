#!/usr/bin/env bash
# Builds the release archive dist/release/klink-<version>-linux-x64.tar.gz and dist/release/SHA256SUMS
# from a clean git tree (--allow-dirty builds anyway; the executable then says "+dirty").
#
# The archive holds: klink (the executable), install.sh, klink.service (systemd), migration.yaml
# (the commented example) and migration.schema.json, README.md, runbook.md, docs/, CHANGELOG.md, LICENSE,
# LICENSE.librdkafka, klink-help.txt (every command's --help), and SHA256SUMS of those files, which
# install.sh checks.
#
# Reproducibility: the executable is built twice and the two hashes compared (printed either way).
# Measured 2026-12-06 (Bun 1.4.5): the two builds are byte-identical, and two runs of this script
# on one commit give the same archive hash. Across machines the executable is the same only with
# the same Bun and the same librdkafka build (scripts/build-librdkafka.sh compiles it with the
# local compiler and system headers), so compare on one build image.
# The archive is deterministic given the executable: entries sorted by name, every mtime the
# commit's time, owner and group 0, fixed modes, gzip without name or time (-n).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[release] $*" >&2; }

allow_dirty=0
for a in "$@"; do
  case "$a" in
    --allow-dirty) allow_dirty=1 ;;
    *) echo "release.sh: unknown argument '$a' (usage: release.sh [--allow-dirty])" >&2; exit 1 ;;
  esac
done
if [ -n "$(git status --porcelain)" ]; then
  [ "$allow_dirty" -eq 1 ] || { git status --short >&2; echo "release.sh: the tree has local changes (above): commit them, or pass --allow-dirty" >&2; exit 1; }
  say "building from a tree with local changes (--allow-dirty)"
fi

version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -1)
name="klink-$version-linux-x64"
epoch=$(git log -1 --format=%ct)
out=dist/release
rm -rf "$out" && mkdir -p "$out/build-1" "$out/build-2" "$out/$name"

# The executable, twice.
KLINK_OUT="$out/build-1/klink" bash scripts/build.sh
KLINK_OUT="$out/build-2/klink" bash scripts/build.sh
h1=$(sha256sum "$out/build-1/klink" | cut -d' ' -f1)
h2=$(sha256sum "$out/build-2/klink" | cut -d' ' -f1)
if [ "$h1" = "$h2" ]; then
  say "reproducible: both builds of the executable hash to $h1"
else
  say "NOT reproducible: the two builds hash to $h1 and $h2 ($(cmp "$out/build-1/klink" "$out/build-2/klink" | head -1)); the archive carries the first"
fi

# The archive's contents.
stage="$out/$name"
cp "$out/build-1/klink" "$stage/klink"
cp scripts/install.sh "$stage/install.sh"
cp ops/systemd/klink.service migration.yaml migration.schema.json README.md CHANGELOG.md LICENSE "$stage/"
cp docs/runbook.md "$stage/runbook.md"
mkdir -p "$stage/docs" && cp docs/*.md docs/*.png "$stage/docs/" # the README links into docs/
cp node_modules/@confluentinc/kafka-javascript/deps/librdkafka/LICENSES.txt "$stage/LICENSE.librdkafka"
{
  "$stage/klink" --help
  for c in $("$stage/klink" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
    printf '\n\n==== klink %s --help ====\n\n' "$c"
    "$stage/klink" "$c" --help
  done
} > "$stage/klink-help.txt"
chmod 0755 "$stage/klink" "$stage/install.sh"
find "$stage" -type f ! -name klink ! -name install.sh -exec chmod 0644 {} +
(cd "$stage" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS && chmod 0644 SHA256SUMS)

tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode='go-w' --format=gnu \
  -C "$out" -cf - "$name" | gzip -n -9 > "$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" > SHA256SUMS)
rm -rf "$out/build-2"
say "$out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1)) and $out/SHA256SUMS: $(cut -d' ' -f1 "$out/SHA256SUMS")"
