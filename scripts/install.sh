#!/usr/bin/env bash
# Installs klink from an unpacked release archive (this script's directory):
#   1. checks every file against the archive's SHA256SUMS (refuses on any mismatch);
#   2. installs the executable as PREFIX/usr/local/bin/klink, the documents, the example
#      migration.yaml and its JSON Schema in PREFIX/usr/local/share/klink/, the systemd unit as
#      PREFIX/etc/systemd/system/klink.service;
#   3. creates the system user and group klink (no login, home /var/lib/klink), the state
#      directory PREFIX/var/lib/klink (0750 klink:klink) and PREFIX/etc/klink (0750 root:klink).
# It does not write migration.yaml nor enable or start the service (docs/runbook.md, step 2).
#
# Usage: sudo ./install.sh [--prefix DIR]
#   --prefix DIR  install into DIR as the root of the file system (a staging tree, a test):
#                 DIR/usr/local/bin/klink, DIR/etc/..., DIR/var/lib/klink. The user is created
#                 with `useradd --prefix DIR` when DIR/etc/passwd exists; systemctl is not called.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 1; }; prefix=$(realpath -m "$2"); shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (usage: install.sh [--prefix DIR])" >&2; exit 1 ;;
  esac
done
say() { echo "[install] $*"; }

# 1. The archive's own checksums (the release's SHA256SUMS beside the .tar.gz covers the archive).
(cd "$here" && sha256sum --quiet --strict -c SHA256SUMS) || { echo "install.sh: checksum mismatch in $here (see above): download and unpack the archive again" >&2; exit 1; }
say "checksums match (SHA256SUMS)"

root=$(id -u)
owner() { [ "$root" -eq 0 ] && chown "$@" || true; }

# 2. Files.
install -d "$prefix/usr/local/bin" "$prefix/usr/local/share/klink" "$prefix/etc/systemd/system"
install -m 0755 "$here/klink" "$prefix/usr/local/bin/klink"
for f in README.md runbook.md CHANGELOG.md LICENSE klink-help.txt migration.yaml migration.schema.json; do
  install -m 0644 "$here/$f" "$prefix/usr/local/share/klink/$f"
done
install -d "$prefix/usr/local/share/klink/docs"
install -m 0644 "$here"/docs/* "$prefix/usr/local/share/klink/docs/"
install -m 0644 "$here/klink.service" "$prefix/etc/systemd/system/klink.service"
say "installed $prefix/usr/local/bin/klink, $prefix/etc/systemd/system/klink.service, $prefix/usr/local/share/klink/"

# 3. The service user, its state directory and the configuration directory.
passwd="$prefix/etc/passwd"
if grep -q '^klink:' "$passwd" 2>/dev/null; then
  say "user klink exists"
elif [ "$root" -ne 0 ] || ! command -v useradd >/dev/null; then
  say "NOT creating the user klink (needs root and useradd): run as root: useradd --system --user-group --home-dir /var/lib/klink --shell /usr/sbin/nologin klink"
elif [ ! -f "$passwd" ]; then
  say "NOT creating the user klink: $passwd does not exist (a --prefix tree without /etc/passwd); create it on the target system"
else
  useradd ${prefix:+--prefix "$prefix"} --system --user-group --home-dir /var/lib/klink --no-create-home --shell /usr/sbin/nologin klink
  say "created the system user and group klink"
fi
install -d -m 0750 "$prefix/var/lib/klink" "$prefix/etc/klink"
if grep -q '^klink:' "$passwd" 2>/dev/null && grep -q '^klink:' "$prefix/etc/group" 2>/dev/null; then
  uid=$(awk -F: '$1=="klink"{print $3}' "$passwd"); gid=$(awk -F: '$1=="klink"{print $3}' "$prefix/etc/group")
  owner "$uid:$gid" "$prefix/var/lib/klink"
  owner "0:$gid" "$prefix/etc/klink"
fi
say "state directory $prefix/var/lib/klink, configuration directory $prefix/etc/klink"

if [ -z "$prefix" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  say "systemd reloaded; the unit is not enabled yet"
fi
cat <<NEXT
[install] next (docs/runbook.md, step 2):
  klink init /etc/klink/migration.yaml --source HOST:PORT --target HOST:PORT --name NAME
  then set link.topics, groups, storage.options.path and status.tokenFile (under /var/lib/klink) in it,
  chgrp klink /etc/klink/migration.yaml && chmod 0640 /etc/klink/migration.yaml
  klink validate /etc/klink/migration.yaml && klink plan /etc/klink/migration.yaml
  systemctl enable --now klink
NEXT
