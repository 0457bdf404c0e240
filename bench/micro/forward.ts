/**
 * Per-record cost of the data path in the binding, on librdkafka's mock cluster: consuming a
 * record; consuming it and forwarding it zero-copy (`Producer.forward`) including serving its
 * delivery report; and, for comparison, consuming it and producing a JS copy (`Producer.produce`).
 * 100-byte values, 8-byte keys.
 *
 * What is timed is the CPU time of the JS thread (CLOCK_THREAD_CPUTIME_ID): the binding's own
 * cost per record. librdkafka's threads (and the in-process mock broker's) are not counted, and
 * neither is waiting: before each round the consumer has prefetched the round's records.
 */
import { dlopen, FFIType } from "bun:ffi";
import { Bench, type FnReturnedObject } from "tinybench";
import embeddedPath from "../../native/librdkafka.so" with { type: "file" };
import { Consumer, Producer, Offset, type ConsumedMessage } from "../../src/rdkafka/index.ts";
import { produceWithRetry, valuePool, writeSeq, KEY_BYTES } from "../replicate/dataset.ts";
import type { MicroResult } from "../replicate/report.ts";
import { results } from "./common.ts";

const BATCH = 10_000;
// the mock cluster keeps about 5 MB per partition (older records are dropped): spread the data
const PARTITIONS = 16;

// Things klink never needs, so the binding does not have them: the mock cluster's address, the
// consumer queue's length, and the thread's CPU clock.
const lib = dlopen(process.env.KLINK_LIBRDKAFKA || embeddedPath, {
  rd_kafka_handle_mock_cluster: { args: [FFIType.ptr], returns: FFIType.ptr },
  rd_kafka_mock_cluster_bootstraps: { args: [FFIType.ptr], returns: FFIType.cstring },
  rd_kafka_mock_topic_create: { args: [FFIType.ptr, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  rd_kafka_queue_get_consumer: { args: [FFIType.ptr], returns: FFIType.ptr },
  rd_kafka_queue_length: { args: [FFIType.ptr], returns: FFIType.u64_fast },
  rd_kafka_queue_destroy: { args: [FFIType.ptr], returns: FFIType.void },
}).symbols;
const libc = dlopen("libc.so.6", { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } }).symbols;
const CLOCK_THREAD_CPUTIME_ID = 3;
const timespec = new BigInt64Array(2);
/** CPU time of the calling thread, in ms. */
function threadCpuMs(): number {
  libc.clock_gettime(CLOCK_THREAD_CPUTIME_ID, timespec);
  return Number(timespec[0]!) * 1e3 + Number(timespec[1]!) / 1e6;
}

/** Reads exactly `n` records (skipping events), handing each to `each`. */
function consumeN(consumer: Consumer, n: number, each: (m: ConsumedMessage) => void): void {
  let got = 0;
  while (got < n) {
    for (const m of consumer.consumeBatch(Math.min(2000, n - got), 100)) {
      if (m.errorCode) {
        m.destroy();
        continue;
      }
      each(m);
      got++;
    }
  }
}

export async function forwardBench(iterations = 20): Promise<MicroResult[]> {
  const owner = new Producer({ "test.mock.num.brokers": 1, "linger.ms": 5, "batch.size": 1_048_576 });
  const cluster = lib.rd_kafka_handle_mock_cluster(owner.handle as never);
  const bootstrap = String(lib.rd_kafka_mock_cluster_bootstraps(cluster));
  for (const t of ["micro-src", "micro-dst-fwd", "micro-dst-copy"]) lib.rd_kafka_mock_topic_create(cluster, Buffer.from(t + "\0"), PARTITIONS, 1);

  // enough records for every round (and warm-up) of each task
  const total = (iterations + 5) * BATCH;
  const pool = valuePool(100);
  const key = Buffer.alloc(KEY_BYTES);
  for (let seq = 0; seq < total; seq++) {
    await produceWithRetry(owner, { topic: "micro-src", partition: seq % PARTITIONS, key: writeSeq(key, seq), value: pool[seq % pool.length]! });
  }
  await owner.flush(120_000);

  const consumerConfig = { "bootstrap.servers": bootstrap, "queued.max.messages.kbytes": 65536, "fetch.max.bytes": 52_428_800 };
  const producerConfig = { "bootstrap.servers": bootstrap, "linger.ms": 5, "batch.size": 1_048_576, acks: "all", "max.in.flight.requests.per.connection": 5 };
  const queues: unknown[] = [];
  const reader = () => {
    const consumer = new Consumer(consumerConfig);
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: "micro-src", partition, offset: Offset.BEGINNING })));
    const queue = lib.rd_kafka_queue_get_consumer(consumer.handle as never)!;
    queues.push(queue);
    /** waits (untimed) until the next round's records are in the consumer's queue */
    const prefetched = async () => {
      const deadline = performance.now() + 5000;
      while (lib.rd_kafka_queue_length(queue as never) < BATCH && performance.now() < deadline) await Bun.sleep(2);
    };
    return { consumer, prefetched };
  };
  const plain = reader();
  const fwd = reader();
  const copy = reader();
  const forwarder = new Producer(producerConfig);
  const copier = new Producer(producerConfig);

  const cpuTimed = (fn: () => Promise<void> | void) => async (): Promise<FnReturnedObject> => {
    const t = threadCpuMs();
    await fn();
    return { overriddenDuration: threadCpuMs() - t };
  };
  const bench = new Bench({ iterations, time: 0, warmupIterations: 3, warmupTime: 0 });
  bench.add("binding: consume", cpuTimed(() => consumeN(plain.consumer, BATCH, (m) => m.destroy())), { beforeEach: plain.prefetched });
  bench.add("binding: consume + forward (zero-copy) + delivery report", cpuTimed(async () => {
    consumeN(fwd.consumer, BATCH, (m) => {
      while (forwarder.forward(m, "micro-dst-fwd") === 0) forwarder.poll();
    });
    await forwarder.flush(60_000); // every delivery report served, every forwarded message freed
  }), { beforeEach: fwd.prefetched });
  bench.add("binding: consume + produce (JS copy) + delivery report", cpuTimed(async () => {
    consumeN(copy.consumer, BATCH, (m) => {
      const record = { topic: "micro-dst-copy", partition: m.partition, key: m.key(), value: m.value(), timestamp: m.timestamp().timestamp };
      m.destroy();
      for (;;) {
        try {
          copier.produce(record);
          break;
        } catch {
          copier.poll(); // queue full
        }
      }
    });
    await copier.flush(60_000);
  }), { beforeEach: copy.prefetched });
  await bench.run();
  await forwarder.close();
  await copier.close();
  for (const q of queues) lib.rd_kafka_queue_destroy(q as never);
  for (const r of [plain, fwd, copy]) r.consumer.close();
  await owner.close();
  const op = { op: "record, JS-thread CPU (100 B value)", opsPerCall: BATCH };
  return results(bench, Object.fromEntries(bench.tasks.map((t) => [t.name, op])));
}
