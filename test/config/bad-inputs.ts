/**
 * Bad migration.yaml files, each with the exact problems `klink validate` must report.
 * `F` in expected lines stands for the file's path. Positions are line:column in the YAML.
 */
const fixtures = `${import.meta.dir}/fixtures`;

export const BASE = `clusters:
  source:
    bootstrap: 127.0.0.1:9092
  target:
    bootstrap: 127.0.0.1:9093
link:
  name: test
  topics: [orders]
`;

export interface BadInput {
  name: string;
  yaml: string;
  env?: Record<string, string>;
  /** Extra files beside the YAML. */
  files?: Record<string, string>;
  /** Every line printed on stderr, in order (the summary line included). */
  expect: string[];
}

const sasl = (options: string) =>
  BASE.replace("    bootstrap: 127.0.0.1:9092\n", `    bootstrap: 127.0.0.1:9092\n    auth:\n      plugin: sasl\n      options: ${options}\n`);
const tls = (options: string) =>
  BASE.replace("    bootstrap: 127.0.0.1:9092\n", `    bootstrap: 127.0.0.1:9092\n    auth:\n      plugin: tls\n      options: ${options}\n`);
const librdkafka = (entries: string, auth = "") =>
  BASE.replace("    bootstrap: 127.0.0.1:9093\n", `    bootstrap: 127.0.0.1:9093\n${auth}    librdkafka:\n${entries}`);

export const badInputs: BadInput[] = [
  // --- YAML itself
  { name: "an unterminated quoted string", yaml: BASE.replace("name: test", 'name: "test'), expect: ["F:7:9: this quoted string is not closed: its closing \" is missing", "klink validate: 1 error in F"] },
  { name: "a tab used for indentation", yaml: BASE.replace("  name: test", "\tname: test"), expect: ["F:7:1: a tab indents this line: YAML indents with spaces", "klink validate: 1 error in F"] },
  { name: "two YAML documents", yaml: `${BASE}---\nclusters: {}\n`, expect: ["F:9:1: more than one YAML document: a migration.yaml holds one (remove the extra '---')", "klink validate: 1 error in F"] },
  { name: "an empty file", yaml: "# nothing yet\n", expect: ["F:1:1: the file is empty: start from `klink init` or the example migration.yaml", "klink validate: 1 error in F"] },
  { name: "a duplicate top-level key", yaml: `${BASE}link:\n  name: again\n`, expect: ["F:9:1: link: duplicate key 'link' (first defined on line 6): remove one", "klink validate: 1 error in F"] },
  { name: "a duplicate nested key", yaml: BASE.replace("    bootstrap: 127.0.0.1:9093\n", "    bootstrap: 127.0.0.1:9093\n    bootstrap: 127.0.0.1:9094\n"), expect: ["F:6:5: clusters.target.bootstrap: duplicate key 'bootstrap' (first defined on line 5): remove one", "klink validate: 1 error in F"] },
  { name: "a list instead of a mapping at the top", yaml: "- clusters\n- link\n", expect: ["F:1:1: expected a mapping, got a list", "klink validate: 1 error in F"] },

  // --- structure and types
  { name: "a missing required section", yaml: BASE.slice(0, BASE.indexOf("link:")), expect: ["F:1:1: missing required key 'link'", "klink validate: 1 error in F"] },
  { name: "a missing cluster", yaml: BASE.replace("  target:\n    bootstrap: 127.0.0.1:9093\n", ""), expect: ["F:1:1: clusters: missing required key 'target'", "klink validate: 1 error in F"] },
  { name: "an unknown top-level key near a known one", yaml: `${BASE}grops: [billing]\n`, expect: ["F:9:1: grops: unknown key 'grops'; did you mean 'groups'?", "klink validate: 1 error in F"] },
  { name: "an unknown nested key near a known one", yaml: BASE.replace("topics:", "topcs:"), expect: ["F:6:1: link: missing required key 'topics'", "F:8:3: link.topcs: unknown key 'topcs'; did you mean 'topics'?", "klink validate: 2 errors in F"] },
  { name: "an unknown key with no near miss", yaml: `${BASE}  colour: blue\n`, expect: ["F:9:3: link.colour: unknown key 'colour'; expected one of name, topics, start, offsets, prefixFillLimit, create, configSync, groupOffsetSync, standby, spread, fastLane, failback, aclSync, overrides", "klink validate: 1 error in F"] },
  { name: "link.spread without link.standby", yaml: `${BASE}  spread: true\nstorage: { plugin: kafka }\n`, expect: ["F:9:11: link.spread: needs link.standby: true (the workers that spread a link are its standbys)", "klink validate: 1 error in F"] },
  { name: "link.fastLane with link.spread", yaml: `${BASE}  standby: true\n  spread: true\n  fastLane: true\nstorage: { plugin: kafka }\n`, expect: ["F:11:13: link.fastLane: cannot be used with link.spread yet: there, the workers that stand by copy lent partitions on the fast lane already; remove one of the two", "klink validate: 1 error in F"] },
  { name: "a list where a string belongs", yaml: BASE.replace("name: test", "name: [test]"), expect: ["F:7:9: link.name: expected a string, got a list", "klink validate: 1 error in F"] },
  { name: "a string where an integer belongs", yaml: `${BASE}  prefixFillLimit: lots\n`, expect: ["F:9:20: link.prefixFillLimit: expected an integer, got 'lots'", "klink validate: 1 error in F"] },
  { name: "a number below the minimum", yaml: `${BASE}  prefixFillLimit: -1\n`, expect: ["F:9:20: link.prefixFillLimit: must be at least 0, got -1", "klink validate: 1 error in F"] },
  { name: "a link name with a space", yaml: BASE.replace("name: test", "name: my migration"), expect: ["F:7:9: link.name: expected a name of letters, digits, '.', '_' and '-' (at most 100), got 'my migration'", "klink validate: 1 error in F"] },
  { name: "a plugin reference that is a string", yaml: `${BASE}cutover: manual\n`, expect: ["F:9:10: cutover: expected a mapping, got 'manual'", "klink validate: 1 error in F"] },

  // --- enums and start positions
  { name: "a misspelt offsets mode", yaml: `${BASE}  offsets: exct\n`, expect: ["F:9:12: link.offsets: 'exct' is not one of exact, translate, auto; did you mean 'exact'?", "klink validate: 1 error in F"] },
  { name: "a start with a trailing blank", yaml: `${BASE}  start: "earliest "\n`, expect: ["F:9:10: link.start: 'earliest ' is not one of earliest, latest, {timestamp: ...}; did you mean 'earliest'?", "klink validate: 1 error in F"] },
  { name: "a start that is a number", yaml: `${BASE}  start: 5\n`, expect: ["F:9:10: link.start: expected earliest, latest or {timestamp: ...}, got 5", "klink validate: 1 error in F"] },
  { name: "a start timestamp that is not a date-time", yaml: `${BASE}  start: { timestamp: yesterday }\n`, expect: ["F:9:23: link.start.timestamp: 'yesterday' is not an ISO-8601 date-time such as 2024-05-01T00:00:00Z", "klink validate: 1 error in F"] },
  { name: "a start timestamp in the future", yaml: `${BASE}  start: { timestamp: 2999-01-01T00:00:00Z }\n`, expect: ["F:9:23: link.start.timestamp: 2999-01-01T00:00:00Z is in the future: nothing would be mirrored until then; use `latest` to start at the end", "klink validate: 1 error in F"] },
  { name: "a misspelt key in a start mapping", yaml: `${BASE}  start: { timestmp: 2024-01-01T00:00:00Z }\n`, expect: ["F:9:3: link.start: missing required key 'timestamp'", "F:9:12: link.start.timestmp: unknown key 'timestmp'; did you mean 'timestamp'?", "klink validate: 2 errors in F"] },

  { name: "an unknown ACL deletion policy", yaml: `${BASE}  aclSync: { enabled: true, deletions: delete }\n`, expect: ["F:9:40: link.aclSync.deletions: 'delete' is not one of keep, mirror", "klink validate: 1 error in F"] },
  { name: "an ACL principal mapped from a name without its type", yaml: `${BASE}  aclSync: { enabled: true, principals: { alice: "User:alice2" } }\n`, expect: ["F:9:43: link.aclSync.principals.alice: 'alice' is not a principal such as User:alice (TYPE:NAME)", "klink validate: 1 error in F"] },
  { name: "an ACL principal mapped to a name without its type", yaml: `${BASE}  aclSync: { enabled: true, principals: { "User:alice": alice2 } }\n`, expect: ["F:9:57: link.aclSync.principals[\"User:alice\"]: expected a principal such as User:alice (TYPE:NAME), got 'alice2'", "klink validate: 1 error in F"] },

  // --- topic and group selections
  { name: "an empty topic list", yaml: BASE.replace("topics: [orders]", "topics: []"), expect: ["F:8:11: link.topics: selects no topics: list names", "klink validate: 1 error in F"] },
  { name: "a topic selection with neither names nor regex", yaml: BASE.replace("topics: [orders]", "topics: { exclude: ['tmp.*'] }"), expect: ["F:8:11: link.topics: selects no topics: list names or regex", "klink validate: 1 error in F"] },
  { name: "a bad regular expression", yaml: BASE.replace("topics: [orders]", "topics: { regex: ['(orders'] }"), expect: ["F:8:21: link.topics.regex[0]: invalid regular expression '(orders': missing )", "klink validate: 1 error in F"] },
  { name: "an invalid topic name", yaml: BASE.replace("topics: [orders]", "topics: [orders, 'bad topic']"), expect: ["F:8:20: link.topics[1]: 'bad topic' is not a valid Kafka topic name (letters, digits, '.', '_', '-', at most 249)", "klink validate: 1 error in F"] },
  { name: "a topic refresh interval of zero", yaml: BASE.replace("topics: [orders]", "topics: { names: [orders], refreshSeconds: 0 }"), expect: ["F:8:46: link.topics.refreshSeconds: must be at least 1, got 0", "klink validate: 1 error in F"] },
  { name: "a topic refresh interval that is not whole seconds", yaml: BASE.replace("topics: [orders]", "topics: { names: [orders], refreshSeconds: 2.5 }"), expect: ["F:8:46: link.topics.refreshSeconds: expected an integer, got 2.5", "klink validate: 1 error in F"] },
  { name: "a refresh interval on the groups' selection", yaml: `${BASE}groups: { names: [billing], refreshSeconds: 5 }\n`, expect: ["F:9:29: groups.refreshSeconds: unknown key 'refreshSeconds'; expected one of names, regex, exclude", "klink validate: 1 error in F"] },
  { name: "a topic listed twice", yaml: BASE.replace("topics: [orders]", "topics: [orders, orders]"), expect: ["F:8:20: link.topics[1]: 'orders' is listed twice", "klink validate: 1 error in F"] },
  { name: "a topic both listed and excluded", yaml: BASE.replace("topics: [orders]", "topics: { names: [orders, payments], exclude: ['ord.*'] }"), expect: ["F:8:50: link.topics.exclude[0]: excludes 'orders', which is listed in names: remove one or the other", "klink validate: 1 error in F"] },
  { name: "an override for a topic that is not selected", yaml: `${BASE}  overrides:\n    payments: { start: latest }\n`, expect: ["F:10:5: link.overrides.payments: an override for topic 'payments', which link.topics does not select: add it there or remove the override", "klink validate: 1 error in F"] },
  { name: "an empty group list", yaml: `${BASE}groups: []\n`, expect: ["F:9:9: groups: selects no consumer groups: list names", "klink validate: 1 error in F"] },

  // --- clusters
  { name: "a bootstrap server without a port", yaml: BASE.replace("127.0.0.1:9092", "kafka-1"), expect: ["F:3:16: clusters.source.bootstrap: 'kafka-1' is not HOST:PORT (the port is missing)", "klink validate: 1 error in F"] },
  { name: "a bootstrap port out of range", yaml: BASE.replace("127.0.0.1:9092", "127.0.0.1:99999"), expect: ["F:3:16: clusters.source.bootstrap: '127.0.0.1:99999': port 99999 is not between 1 and 65535", "klink validate: 1 error in F"] },
  { name: "the same cluster as source and target", yaml: BASE.replace("127.0.0.1:9093", "[127.0.0.1:9092]"), expect: ["F:5:16: clusters.target.bootstrap: names 127.0.0.1:9092, a server of the source too: source and target must be different clusters", "klink validate: 1 error in F"] },
  { name: "an unknown librdkafka property", yaml: librdkafka("      fetch.max.byte: 1048576\n"), expect: ["F:7:7: clusters.target.librdkafka[\"fetch.max.byte\"]: unknown librdkafka property 'fetch.max.byte'; did you mean 'fetch.max.bytes'?", "klink validate: 1 error in F"] },
  { name: "a misspelled topic-level librdkafka property", yaml: librdkafka("      message.timeout.msec: 1000\n"), expect: ["F:7:7: clusters.target.librdkafka[\"message.timeout.msec\"]: unknown librdkafka property 'message.timeout.msec'; did you mean 'message.timeout.ms'?", "klink validate: 1 error in F"] },
  { name: "an unknown librdkafka property like none", yaml: librdkafka("      frobnicate: 1\n"), expect: ["F:7:7: clusters.target.librdkafka.frobnicate: unknown librdkafka property 'frobnicate' (see librdkafka's CONFIGURATION.md)", "klink validate: 1 error in F"] },
  { name: "a librdkafka value librdkafka rejects", yaml: librdkafka("      socket.timeout.ms: soon\n"), expect: ["F:7:26: clusters.target.librdkafka[\"socket.timeout.ms\"]: librdkafka rejects 'soon': Invalid value for configuration property \"socket.timeout.ms\"", "klink validate: 1 error in F"] },
  { name: "a librdkafka property klink owns", yaml: librdkafka("      enable.idempotence: false\n"), expect: ["F:7:7: clusters.target.librdkafka[\"enable.idempotence\"]: 'enable.idempotence' cannot be overridden: klink sets it: copying without duplicates depends on it", "klink validate: 1 error in F"] },
  { name: "a librdkafka security property next to an auth plugin", yaml: librdkafka("      sasl.username: bob\n", "    auth: { plugin: tls }\n"), expect: ["F:8:7: clusters.target.librdkafka[\"sasl.username\"]: 'sasl.username' conflicts with the cluster's auth plugin, which sets the security properties: configure it there", "klink validate: 1 error in F"] },

  // --- interpolation
  { name: "a missing environment variable", yaml: BASE.replace("127.0.0.1:9092", "${env:KLINK_TEST_UNSET_BOOTSTRAP}"), expect: ["F:3:16: clusters.source.bootstrap: environment variable KLINK_TEST_UNSET_BOOTSTRAP is not set (used as ${env:KLINK_TEST_UNSET_BOOTSTRAP})", "klink validate: 1 error in F"] },
  { name: "an unknown kind of reference", yaml: sasl("{ username: klink, password: '${vault:kafka/klink}' }"), expect: ["F:6:45: clusters.source.auth.options.password: '${vault:kafka/klink}' is not a reference klink knows: write ${env:NAME} or ${file:PATH}", "klink validate: 1 error in F"] },
  { name: "a secret file that does not exist", yaml: sasl("{ username: klink, password: '${file:secrets/password}' }"), expect: ["F:6:45: clusters.source.auth.options.password: cannot read D/secrets/password (used as ${file:secrets/password}): no such file", "klink validate: 1 error in F"] },
  { name: "a secret file that is a directory", yaml: sasl("{ username: klink, password: '${file:.}' }"), expect: ["F:6:45: clusters.source.auth.options.password: cannot read D (used as ${file:.}): it is a directory", "klink validate: 1 error in F"] },
  { name: "an unclosed reference", yaml: sasl("{ username: klink, password: '${env:PASSWORD' }"), expect: ["F:6:45: clusters.source.auth.options.password: '${' without a closing '}'", "klink validate: 1 error in F"] },

  // --- plugins
  { name: "an unknown plugin near a built-in", yaml: `${BASE}storage: { plugin: sqlit }\n`, expect: ["F:9:20: storage.plugin: unknown storage plugin 'sqlit'; did you mean 'sqlite'?", "klink validate: 1 error in F"] },
  { name: "a plugin of another kind", yaml: BASE.replace("    bootstrap: 127.0.0.1:9092\n", "    bootstrap: 127.0.0.1:9092\n    auth: { plugin: sqlite }\n"), expect: ["F:4:21: clusters.source.auth.plugin: 'sqlite' is a storage plugin, not an auth plugin; built-in auth plugins: sasl, tls, oauthbearer, msk-iam, gssapi", "klink validate: 1 error in F"] },
  { name: "a misspelt plugin option value", yaml: sasl("{ mechanism: SCRAM-SHA512, username: klink, password: '${env:PW}' }"), env: { PW: "s3cret" }, expect: ["F:6:29: clusters.source.auth.options.mechanism: sasl plugin: 'SCRAM-SHA512' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; did you mean 'SCRAM-SHA-512'?", "klink validate: 1 error in F"] },
  { name: "a missing plugin option", yaml: sasl("{ username: klink }"), expect: ["F:6:7: clusters.source.auth.options: sasl plugin: missing required key 'password'", "klink validate: 1 error in F"] },
  { name: "a misspelt plugin option key", yaml: sasl("{ usename: klink, password: '${env:PW}' }"), env: { PW: "s3cret" }, expect: ["F:6:7: clusters.source.auth.options: sasl plugin: missing required key 'username'", "F:6:18: clusters.source.auth.options.usename: sasl plugin: unknown key 'usename'; did you mean 'username'?", "klink validate: 2 errors in F"] },
  { name: "a plugin option of the wrong type", yaml: sasl("{ username: klink, password: '${env:PW}', tls: yes }"), env: { PW: "s3cret" }, expect: ["F:6:63: clusters.source.auth.options.tls: sasl plugin: expected a boolean or a mapping, got 'yes'", "klink validate: 1 error in F"] },
  { name: "a TLS CA file that does not exist", yaml: tls("{ ca: ./ca.pem }"), expect: ["F:6:22: clusters.source.auth.options.ca: tls plugin: cannot read D/ca.pem: no such file", "klink validate: 1 error in F"] },
  { name: "a certificate without its key", yaml: tls("{ certificate: ./client.pem }"), files: { "client.pem": "x" }, expect: ["F:6:7: clusters.source.auth.options: tls plugin: 'certificate' needs 'key' too", "klink validate: 1 error in F"] },
  { name: "a keystore and PEM files together", yaml: tls("{ keystore: ./k.p12, certificate: ./c.pem, key: ./c.key }"), files: { "k.p12": "x", "c.pem": "x", "c.key": "x" }, expect: ["F:6:28: clusters.source.auth.options.keystore: tls plugin: give either `keystore` (PKCS#12) or `certificate` and `key` (PEM), not both", "klink validate: 1 error in F"] },
  { name: "an OAUTHBEARER plugin with no token source", yaml: BASE.replace("    bootstrap: 127.0.0.1:9092\n", "    bootstrap: 127.0.0.1:9092\n    auth: { plugin: oauthbearer, options: { principal: klink } }\n"), expect: ["F:4:43: clusters.source.auth.options: oauthbearer plugin: give exactly one of `command` and `file`: where the token comes from", "klink validate: 1 error in F"] },
  { name: "options of a plugin that has none", yaml: `${BASE}cutover: { plugin: manual, options: { after: 5m } }\n`, expect: ["F:9:39: cutover.options.after: manual plugin: unknown key 'after'; there are none here", "klink validate: 1 error in F"] },
  { name: "a user plugin file that does not exist", yaml: `${BASE}storage: { plugin: ./plugins/state.ts }\n`, expect: ["F:9:20: storage.plugin: plugin file D/plugins/state.ts does not exist", "klink validate: 1 error in F"] },
  { name: "a user plugin module that is not a plugin", yaml: `${BASE}storage: { plugin: ${fixtures}/not-a-plugin.ts }\n`, expect: [`F:9:20: storage.plugin: ${fixtures}/not-a-plugin.ts is not a klink plugin: it does not export name, kind, optionsSchema, create (see \`klink plugins --help\`)`, "klink validate: 1 error in F"] },
  { name: "a user plugin module that throws while loading", yaml: `${BASE}storage: { plugin: ${fixtures}/throws-on-import.ts }\n`, expect: [`F:9:20: storage.plugin: cannot load plugin ${fixtures}/throws-on-import.ts: boom while loading`, "klink validate: 1 error in F"] },
  { name: "a user plugin of another kind", yaml: `${BASE}storage: { plugin: ${fixtures}/echo-auth.ts }\n`, expect: [`F:9:20: storage.plugin: ${fixtures}/echo-auth.ts is an auth plugin, not a storage plugin`, "klink validate: 1 error in F"] },
  { name: "a user plugin's option error", yaml: BASE.replace("    bootstrap: 127.0.0.1:9092\n", `    bootstrap: 127.0.0.1:9092\n    auth: { plugin: ${fixtures}/echo-auth.ts, options: { id: klink, retries: many } }\n`), expect: [`F:4:${"    auth: { plugin: ".length + fixtures.length + "/echo-auth.ts, options: { id: klink, retries: ".length + 1}: clusters.source.auth.options.retries: echo plugin: expected an integer, got 'many'`, "klink validate: 1 error in F"] },

  // --- settings that contradict each other, limits, status
  { name: "prefixFillLimit with offsets translate", yaml: `${BASE}  offsets: translate\n  prefixFillLimit: 1000\n`, expect: ["F:10:20: link.prefixFillLimit: applies to offsets `exact` and `auto` only, but offsets is `translate`: remove one of them", "klink validate: 1 error in F"] },
  { name: "LogAppendTime for created topics", yaml: `${BASE}  create: { configs: { message.timestamp.type: LogAppendTime } }\n`, expect: ["F:9:48: link.create.configs[\"message.timestamp.type\"]: LogAppendTime would replace the copied records' timestamps with the target broker's clock: remove it (klink copies timestamps as they are)", "klink validate: 1 error in F"] },
  { name: "a size that is not a size", yaml: `${BASE}limits: { inFlightBytes: 10XB }\n`, expect: ["F:9:26: limits.inFlightBytes: expected a size such as 64MiB, 1GiB or a number of bytes, got '10XB'", "klink validate: 1 error in F"] },
  { name: "a memory limit below the in-flight limit", yaml: `${BASE}limits: { inFlightBytes: 2GiB, memory: 1GiB }\n`, expect: ["F:9:40: limits.memory: must be larger than limits.inFlightBytes (2GiB): in-flight records are only part of klink's memory", "klink validate: 1 error in F"] },
  { name: "a status address without a port", yaml: `${BASE}status: { listen: localhost }\n`, expect: ["F:9:19: status.listen: expected HOST:PORT such as 127.0.0.1:8787, got 'localhost'", "klink validate: 1 error in F"] },
  { name: "several errors at once, in file order", yaml: BASE.replace("127.0.0.1:9092", "kafka-1").replace("topics: [orders]", "topics: []") + "grops: []\n", expect: ["F:3:16: clusters.source.bootstrap: 'kafka-1' is not HOST:PORT (the port is missing)", "F:8:11: link.topics: selects no topics: list names", "F:9:1: grops: unknown key 'grops'; did you mean 'groups'?", "klink validate: 3 errors in F"] },
];
