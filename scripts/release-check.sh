#!/usr/bin/env bash
# Checks a release archive as an operator would use it, without Kafka and without touching the
# system: the archive against dist/release/SHA256SUMS; unpacked in an empty directory, `klink
# --version` (names the commit), `klink init` and `klink validate` there; install.sh --prefix
# into a temporary root (a copy of /etc/passwd and /etc/group there lets it run useradd when
# root); `systemd-analyze verify` of the installed unit when systemd-analyze exists.
# Usage: release-check.sh [dist/release/klink-VERSION-linux-x64.tar.gz]
set -euo pipefail
cd "$(dirname "$0")/.."
archive=$(realpath "${1:-$(ls dist/release/klink-*-linux-x64.tar.gz | head -1)}")
say() { echo "[release-check] $*" >&2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$(dirname "$archive")" && sha256sum --quiet --strict -c SHA256SUMS)
say "archive checksum matches SHA256SUMS"
mkdir "$work/unpack" "$work/empty" "$work/root"
tar -xzf "$archive" -C "$work/unpack"
dir=$(ls -d "$work/unpack"/klink-*)

# The binary, from an empty directory.
version=$(cd "$work/empty" && "$dir/klink" --version)
say "$version"
echo "$version" | grep -Eq '^klink [0-9][^ ]* \(commit [0-9a-f]{7,}(\+dirty)?, librdkafka [0-9.]+\)$' \
  || { echo "release-check: unexpected --version output: $version" >&2; exit 1; }
(cd "$work/empty" && "$dir/klink" init --source 127.0.0.1:9092 --target 127.0.0.1:9093 >/dev/null && "$dir/klink" validate migration.yaml)
say "init and validate work in an empty directory"

# The install script, into a temporary root.
[ "$(id -u)" -ne 0 ] || { mkdir -p "$work/root/etc" && cp /etc/passwd /etc/group /etc/shadow /etc/gshadow "$work/root/etc/" 2>/dev/null || true; }
"$dir/install.sh" --prefix "$work/root" >&2
for f in usr/local/bin/klink etc/systemd/system/klink.service usr/local/share/klink/runbook.md var/lib/klink etc/klink; do
  [ -e "$work/root/$f" ] || { echo "release-check: install.sh did not install $f" >&2; exit 1; }
done
"$work/root/usr/local/bin/klink" --version >/dev/null
say "install.sh --prefix installed the binary, the unit and the directories$(grep -q '^klink:' "$work/root/etc/passwd" 2>/dev/null && echo ', and created the user klink in the prefix' || echo '; no user created (not root)')"

# The unit: systemd's own checker, when this machine has it.
if command -v systemd-analyze >/dev/null; then
  # verify resolves ExecStart= on this system: point it at the installed copy.
  sed "s|^ExecStart=/usr/local/bin/klink|ExecStart=$work/root/usr/local/bin/klink|" "$work/root/etc/systemd/system/klink.service" > "$work/klink.service"
  systemd-analyze verify "$work/klink.service"
  say "systemd-analyze verify: the unit is valid"
else
  say "systemd-analyze not found: the unit was not verified"
fi
say "ok"
