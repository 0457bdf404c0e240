/** The whole exact-mode verdict on one topic: read both clusters with both readers, compare. */
import type { Clusters } from "../link/dual-write-workload.ts";
import { checkAcked, type Expected } from "./acked-oracle.ts";
import { compareLogOffsets, compareReaders, compareRecords, firstOffsets } from "./exact-oracle.ts";
import { logOffsets, readWithConsoleConsumer, readWithLibrdkafka, type Rec } from "./read-cluster.ts";
import type { Violation } from "./violations.ts";

export interface MirrorCheckOptions {
  compacted: boolean;
  /** what the producers had acknowledged */
  expected: Expected[];
  idOf: (r: Rec) => string | null;
  log: (line: string) => void;
}

export async function checkExactMirror(clusters: Clusters, topic: string, o: MirrorCheckOptions): Promise<Violation[]> {
  const [src, tgt] = await Promise.all([readWithLibrdkafka(clusters.source, topic), readWithLibrdkafka(clusters.target, topic)]);
  const [srcOffsets, tgtOffsets] = await Promise.all([logOffsets(clusters.source, topic), logOffsets(clusters.target, topic)]);
  const [srcConsole, tgtConsole] = await Promise.all([
    readWithConsoleConsumer(clusters.source, topic, src.length),
    readWithConsoleConsumer(clusters.target, topic, tgt.length),
  ]);
  o.log(`${topic}: source ${src.length} records (console consumer ${srcConsole.length}), target ${tgt.length} (console consumer ${tgtConsole.length}); ` +
    `log start/end source ${show(srcOffsets)}, target ${show(tgtOffsets)}; ${o.expected.length} acknowledged`);
  return [
    ...compareLogOffsets(topic, srcOffsets, tgtOffsets, { source: firstOffsets(src), target: firstOffsets(tgt) }),
    ...compareRecords(topic, src, tgt, { compacted: o.compacted, reader: "librdkafka" }),
    ...compareReaders("source", topic, src, srcConsole, o.compacted),
    ...compareReaders("target", topic, tgt, tgtConsole, o.compacted),
    ...checkAcked("source", topic, o.expected, src, o.idOf),
    // offsets on the target are judged above, against the source
    ...checkAcked("target", topic, o.expected.map((e) => ({ ...e, offset: undefined })), tgt, o.idOf),
  ];
}

const show = (m: Map<number, { start: number; end: number }>) => [...m].sort(([a], [b]) => a - b).map(([p, o]) => `[${p}] ${o.start}-${o.end}`).join(" ");
