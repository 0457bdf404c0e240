#!/usr/bin/env bash
# The README's "run the example" command: builds klink, starts a local source (Kafka 3.9) and
# target (Kafka 4.4) cluster, writes a seeded workload to the source, then runs
#   klink plan, klink run --until-caught-up, klink verify
# on migration.yaml, and stops the clusters again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export KLINK_TEST_DIR="$PWD/.klink-example"
stop_clusters() { npx bun test/harness/cli.ts down >/dev/null 2>&1 || true; }
trap stop_clusters EXIT
npx bun test/harness/cli.ts up >/dev/null
export KLINK_SOURCE_BOOTSTRAP=$(npx bun -e 'console.log(require("./test/harness/state.ts").getCluster("source").bootstrap)')
export KLINK_TARGET_BOOTSTRAP=$(npx bun -e 'console.log(require("./test/harness/state.ts").getCluster("target").bootstrap)')
echo "source $KLINK_SOURCE_BOOTSTRAP (Kafka 3.9.2), target $KLINK_TARGET_BOOTSTRAP (Kafka 4.4.0)"

npx bun scripts/seed-example.ts
rm -f migration.klink.db migration.klink.db-wal migration.klink.db-shm   # fresh clusters, fresh state
set -x
dist/klink plan migration.yaml
dist/klink run migration.yaml --until-caught-up
dist/klink verify migration.yaml
