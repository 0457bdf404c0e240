#!/usr/bin/env bash
# One-time (and quick no-op) set-up for a fresh machine:
#   1. Debian development packages librdkafka links against, and promtool (tests);
#   2. npm packages (Bun, TypeScript, yaml, ajv, ... and the librdkafka source);
#   3. librdkafka built from @confluentinc/kafka-javascript's deps/librdkafka into a cache;
#   4. the klink executable (dist/klink) with that librdkafka embedded;
#   5. a Python venv with aws-msk-iam-sasl-signer-python, the reference the MSK IAM token test compares with.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[setup] $*" >&2; }

# 1. System packages (runtime libraries come with them). apt-get only when one is missing.
# prometheus: for its promtool, which the tests run on klink's /metrics and ops/prometheus rules
# (on a host with systemd the package also starts a Prometheus server: `systemctl disable --now prometheus`).
# chromium: headless, the dashboard test loads klink's page in it.
# python3-venv: the MSK IAM token test runs the reference signer in a venv (step 5).
# libsasl2-modules-gssapi-mit: librdkafka's Kerberos (SASL GSSAPI) through Cyrus SASL; krb5-kdc and
# krb5-admin-server (kdb5_util, kadmin.local): the tests' own KDC (test/harness/kerberos.ts); krb5-user: kinit, for
# the test of a ticket cache without a keytab.
DEB_PACKAGES=(python3-venv patch libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev pkg-config build-essential openssl prometheus chromium
  libsasl2-modules-gssapi-mit krb5-kdc krb5-admin-server krb5-user)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. npm packages. CKJS_LINKING=dynamic keeps kafka-javascript's install step from downloading.
if [ ! -x node_modules/.bin/bun ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "npm install"
  CKJS_LINKING=dynamic npm install --no-audit --no-fund --loglevel=error
fi

# 3 and 4.
bash scripts/build-librdkafka.sh
bash scripts/build.sh

# 5. Cached beside librdkafka; created once (test/plugins/msk-iam-reference.ts reads KLINK_MSK_VENV too).
MSK_VENV="${KLINK_MSK_VENV:-$HOME/.cache/klink/msk-signer-venv}"
if ! "$MSK_VENV/bin/python" -c "import aws_msk_iam_sasl_signer" 2>/dev/null; then
  say "creating $MSK_VENV (aws-msk-iam-sasl-signer-python)"
  python3 -m venv "$MSK_VENV"
  "$MSK_VENV/bin/pip" install -q --disable-pip-version-check "aws-msk-iam-sasl-signer-python==1.0.2" "botocore==1.44.18" "boto3==1.44.18"
fi
