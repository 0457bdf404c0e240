/**
 * Checks a JSON Schema cannot express: values that must agree with each other or with the
 * world (addresses, regular expressions against names, timestamps, librdkafka's own property
 * checks). They read the data defensively, so they run even when the schema found errors.
 */
import { COPYING_CLIENTS_REPLACE, STANDBY_MESSAGE_TIMEOUT_MS } from "./copying-clients.ts";
import { rdkafka, cbuf } from "../rdkafka/library.ts";
import { isSecretKey } from "../rdkafka/config.ts";
import { librdkafkaPropertyNames } from "../rdkafka/properties.ts";
import { didYouMean } from "./suggest.ts";
import { error, warning, type Issue, type Path } from "./issues.ts";
import { parseSize } from "./sizes.ts";
import { selects, toSelection } from "./select.ts";
import { isDateTime, regexError } from "./validate.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const PRINCIPAL = /^[^:]+:.+$/;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** librdkafka properties klink sets itself, with why; an override would break a guarantee. */
const KLINK_OWNED: Record<string, string> = {
  "bootstrap.servers": "set it with `bootstrap`",
  "client.rack": "set it with `rack`",
  "enable.idempotence": "klink sets it: copying without duplicates depends on it",
  "transactional.id": "klink sets it: fillers and markers depend on it",
  "isolation.level": "klink sets it: it reads committed and aborted records on purpose",
  "group.id": "klink sets it per consumer",
  "group.instance.id": "klink sets it per consumer",
  "enable.auto.commit": "klink keeps offsets itself",
  "auto.offset.reset": "set where mirroring starts with link.start",
  acks: "klink sets it: acks=all, so no acknowledged record is lost",
};

/** `raw`: the data as written; `data`: after defaults were filled in. */
export function semanticIssues(raw: unknown, data: unknown, now: number): Issue[] {
  const issues: Issue[] = [];
  const clusters = obj(obj(data)?.clusters);
  const link = obj(obj(data)?.link);
  const rawLink = obj(obj(raw)?.link);

  // clusters
  const bootstraps: Record<string, string[]> = {};
  for (const role of ["source", "target"] as const) {
    const c = obj(clusters?.[role]);
    if (!c) continue;
    const path: Path = ["clusters", role];
    bootstraps[role] = checkBootstrap(c.bootstrap, [...path, "bootstrap"], issues);
    const overrides = obj(c.librdkafka);
    if (overrides) issues.push(...librdkafkaIssues(overrides, [...path, "librdkafka"], obj(c.auth) !== undefined, link?.standby === true));
  }
  const [src, tgt] = [bootstraps.source, bootstraps.target];
  if (src?.length && tgt?.length && src.some((s) => tgt.includes(s))) {
    issues.push(error(["clusters", "target", "bootstrap"], `names ${src.find((s) => tgt.includes(s))}, a server of the source too: source and target must be different clusters`));
  }

  // link
  if (link) {
    const topics = selectionIssues(link.topics, ["link", "topics"], "topic", issues);
    const overrides = obj(link.overrides) ?? {};
    for (const [topic, settings] of Object.entries(overrides)) {
      const path: Path = ["link", "overrides", topic];
      if (topics && !selects(topics, topic)) issues.push(error(path, `an override for topic '${topic}', which link.topics does not select: add it there or remove the override`, "key"));
      issues.push(...settingsIssues(obj(settings), obj(obj(obj(rawLink?.overrides)?.[topic])), path, now));
    }
    issues.push(...settingsIssues(link, rawLink, ["link"], now));
    for (const name of Object.keys(obj(obj(link.aclSync)?.principals) ?? {})) {
      if (!PRINCIPAL.test(name)) issues.push(error(["link", "aclSync", "principals", name], `'${name}' is not a principal such as User:alice (TYPE:NAME)`, "key"));
    }
  }
  if (link?.standby === true && obj(obj(data)?.storage)?.plugin !== "kafka") {
    issues.push(error(["link", "standby"], "needs storage: { plugin: kafka }: the state must live where every machine of the link reaches it (with sqlite, one klink runs a link)"));
  }
  if (link?.spread === true && link?.standby !== true) {
    issues.push(error(["link", "spread"], "needs link.standby: true (the workers that spread a link are its standbys)"));
  }
  if (link?.fastLane === true && link?.spread === true) {
    issues.push(error(["link", "fastLane"], "cannot be used with link.spread yet: there, the workers that stand by copy lent partitions on the fast lane already; remove one of the two"));
  }
  if (obj(data)?.groups !== undefined) selectionIssues(obj(data)!.groups, ["groups"], "consumer group", issues);

  // status, limits
  const listen = obj(obj(data)?.status)?.listen;
  if (typeof listen === "string") {
    const m = HOST_PORT.exec(listen);
    const port = Number(m?.[2]);
    if (m && (port < 1 || port > 65535)) issues.push(error(["status", "listen"], `port ${port} is not between 1 and 65535`));
    else if (m && !isLoopback(m[1]!)) {
      if (obj(obj(data)?.status)?.allowRemote === true) {
        issues.push(warning(["status", "listen"], `the status endpoint listens beyond loopback (${listen}) without TLS: anyone who reaches it sees the migration's state, and control requests (which need the token) travel unencrypted`));
      } else {
        issues.push(error(["status", "listen"], `${listen} listens beyond loopback: anyone who reaches it sees the migration's state, and the control token would travel unencrypted; listen on 127.0.0.1 (reach it over SSH or a TLS proxy), or set status.allowRemote: true`));
      }
    }
  }
  const limits = obj(obj(data)?.limits);
  const inFlight = parseSize(limits?.inFlightBytes as number | string);
  const memory = parseSize(limits?.memory as number | string);
  if (inFlight >= memory) issues.push(error(["limits", "memory"], `must be larger than limits.inFlightBytes (${limits?.inFlightBytes}): in-flight records are only part of klink's memory`));
  return issues;
}

function checkBootstrap(value: unknown, path: Path, issues: Issue[]): string[] {
  const list = typeof value === "string" ? value.split(",").map((s) => s.trim()) : strings(value).map((s) => s.trim());
  const servers: string[] = [];
  list.forEach((server, i) => {
    const at = Array.isArray(value) ? [...path, i] : path;
    const m = HOST_PORT.exec(server);
    if (!server) issues.push(error(at, "an empty server name: write HOST:PORT[,HOST:PORT...]"));
    else if (!m) issues.push(error(at, `'${server}' is not HOST:PORT${/^[^:]+$/.test(server) ? " (the port is missing)" : ""}`));
    else if (Number(m[2]) < 1 || Number(m[2]) > 65535) issues.push(error(at, `'${server}': port ${m[2]} is not between 1 and 65535`));
    else servers.push(server.toLowerCase());
  });
  return servers;
}

function librdkafkaIssues(overrides: Obj, path: Path, hasAuth: boolean, standby: boolean): Issue[] {
  const issues: Issue[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const at = [...path, key];
    const owned = KLINK_OWNED[key];
    if (owned) {
      issues.push(error(at, `'${key}' cannot be overridden: ${owned}`, "key"));
      continue;
    }
    if (hasAuth && /^(security\.protocol|sasl\.|ssl\.|ssl_)/.test(key)) {
      issues.push(error(at, `'${key}' conflicts with the cluster's auth plugin, which sets the security properties: configure it there`, "key"));
      continue;
    }
    const replaced = COPYING_CLIENTS_REPLACE[key];
    if (replaced) issues.push(warning(at, `'${key}' applies to klink's other clients of this cluster, not to the ones that copy records: ${replaced}`));
    if (standby && key === "message.timeout.ms") issues.push(warning(at, `'${key}' does not apply to the producers that copy records: under link.standby they fail a record after ${STANDBY_MESSAGE_TIMEOUT_MS} ms, so that a paused klink cannot write it after a takeover`));
    if (standby && key === "linger.ms" && Number(value) >= STANDBY_MESSAGE_TIMEOUT_MS) {
      issues.push(error(at, `must be below ${STANDBY_MESSAGE_TIMEOUT_MS} under link.standby: the producers that copy records fail a record not sent within ${STANDBY_MESSAGE_TIMEOUT_MS} ms`, "value"));
    } else if (["string", "number", "boolean"].includes(typeof value)) {
      const problem = librdkafkaProblem(key, String(value));
      if (problem) issues.push(error(at, problem, problem.startsWith("unknown") ? "key" : "value"));
    }
  }
  return issues;
}

/** What librdkafka says about one property, or null when it accepts it (or cannot be loaded). */
function librdkafkaProblem(key: string, value: string): string | null {
  let lib: ReturnType<typeof rdkafka>;
  try {
    lib = rdkafka();
  } catch {
    return null; // `klink validate` works without the library; clients check again when created
  }
  const conf = lib.rd_kafka_conf_new()!;
  const errstr = Buffer.alloc(512);
  try {
    const res = lib.rd_kafka_conf_set(conf, cbuf(key), cbuf(value), errstr, errstr.length);
    if (res === 0) return null;
    const reason = errstr.toString("utf8", 0, errstr.indexOf(0));
    if (res === -2) return `unknown librdkafka property '${key}'${didYouMean(key, librdkafkaPropertyNames()) || " (see librdkafka's CONFIGURATION.md)"}`;
    return `librdkafka rejects ${isSecretKey(key) ? "the value" : `'${value}'`}: ${reason}`;
  } finally {
    lib.rd_kafka_conf_destroy(conf);
  }
}

/** A group containing * or + that is itself repeated: the shape of regular expressions that backtrack exponentially. */
const NESTED_REPETITION = /\((?:[^()\\]|\\.)*[*+](?:[^()\\]|\\.)*\)(?:[*+]|\{\d*,\d*\})/;

/** Names, patterns and exclusions: some selected, valid names, no name both listed and excluded. */
function selectionIssues(value: unknown, path: Path, what: string, issues: Issue[]) {
  const form = Array.isArray(value) ? "list" : obj(value) ? "map" : null;
  if (!form) return null;
  if (form === "map" && ["names", "regex", "exclude"].some((k) => obj(value)![k] != null && !Array.isArray(obj(value)![k]))) return null; // the schema says it is not a list
  const names = form === "list" ? strings(value) : strings(obj(value)!.names);
  const namesPath: Path = form === "list" ? path : [...path, "names"];
  const regex = form === "map" ? strings(obj(value)!.regex) : [];
  const exclude = form === "map" ? strings(obj(value)!.exclude) : [];
  if (names.length === 0 && regex.length === 0) {
    issues.push(error(path, `selects no ${what}s: list names${form === "map" ? " or regex" : ""}`));
  }
  if (what === "topic") {
    names.forEach((n, i) => {
      if (!TOPIC_NAME.test(n)) issues.push(error([...namesPath, i], `'${n}' is not a valid Kafka topic name (letters, digits, '.', '_', '-', at most 249)`));
    });
  }
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (seen.has(n)) issues.push(error([...namesPath, i], `'${n}' is listed twice`));
    seen.set(n, i);
  });
  if ([...regex, ...exclude].some((r) => regexError(r) !== null)) return null; // reported by the schema
  for (const [key, list] of [["regex", regex], ["exclude", exclude]] as const) {
    list.forEach((r, i) => {
      if (NESTED_REPETITION.test(r)) {
        issues.push(warning([...path, key, i], `'${r}' repeats a group that repeats itself (like (a+)+): matching it can take exponential time on some names and stall klink; write it without the nested repetition`));
      }
    });
  }
  const selection = toSelection(value);
  exclude.forEach((x, j) => {
    const excluded = names.filter((n) => selection.exclude[j]!.test(n));
    if (excluded.length) issues.push(error([...path, "exclude", j], `excludes ${excluded.map((n) => `'${n}'`).join(", ")}, which ${excluded.length === 1 ? "is" : "are"} listed in names: remove one or the other`));
  });
  return selection;
}

/** start, offsets and create of the link or of one topic override. */
function settingsIssues(settings: Obj | undefined, raw: Obj | undefined, path: Path, now: number): Issue[] {
  const issues: Issue[] = [];
  if (!settings) return issues;
  const ts = obj(settings.start)?.timestamp;
  const tsMs = typeof ts === "number" ? ts : typeof ts === "string" && isDateTime(ts) ? Date.parse(ts) : NaN;
  if (tsMs > now) issues.push(error([...path, "start", "timestamp"], `${typeof ts === "string" ? ts : ts} is in the future: nothing would be mirrored until then; use \`latest\` to start at the end`));
  if (raw?.offsets === "translate" && raw?.prefixFillLimit !== undefined) {
    issues.push(error([...path, "prefixFillLimit"], "applies to offsets `exact` and `auto` only, but offsets is `translate`: remove one of them"));
  }
  const configs = obj(obj(settings.create)?.configs);
  const tsType = configs?.["message.timestamp.type"];
  if (tsType === "LogAppendTime") {
    issues.push(error([...path, "create", "configs", "message.timestamp.type"], "LogAppendTime would replace the copied records' timestamps with the target broker's clock: remove it (klink copies timestamps as they are)"));
  }
  return issues;
}

/** Secrets written into the file rather than referenced: warn, they end up in version control. */
export function literalSecretWarnings(secretPaths: Path[], interpolated: Set<string>): Issue[] {
  return secretPaths
    .filter((p) => !interpolated.has(JSON.stringify(p)))
    .map((p) => warning(p, "a secret written into the file: use ${env:NAME} or ${file:PATH} so it stays out of version control"));
}

/** A host name or address that only this host reaches. */
export function isLoopback(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(host);
}
