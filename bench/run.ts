/**
 * klink against MirrorMaker 2 and the raw librdkafka pipe, on the same data, brokers and run.
 *
 *   npx bun bench/run.ts                    the full run (see bench/README.md for what it measures)
 *   npx bun bench/run.ts --quick            a small smoke run (results under bench/results/raw/)
 *   npx bun bench/run.ts --cases 1k-none,100b-lz4 --reps 3 --mb 200
 *
 * The benchmark's clusters live in their own state dir (<repo>/.klink-bench, or $KLINK_BENCH_DIR),
 * never in the test harness's: the dir must be chosen before test/harness/state.ts loads, hence
 * the dynamic import.
 */
import { resolve } from "node:path";

process.env.KLINK_TEST_DIR = resolve(process.env.KLINK_BENCH_DIR ?? resolve(import.meta.dir, "../.klink-bench"));
const { main } = await import("./replicate/main.ts");
process.exitCode = await main(process.argv.slice(2));
