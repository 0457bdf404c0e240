/**
 * The JSON Schema (draft 2020-12) of migration.yaml: the single description of every key, its
 * type, default and meaning. `klink validate` checks files with it (ajv, defaults filled in),
 * `klink schema` prints it for editors, and the example migration.yaml follows it.
 * Plugin options are described by each plugin's own schema (see plugins/plugin.ts).
 */

export type JsonSchema = Record<string, unknown>;

export const SIZE_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*([KMGT]i?B|B)?\\s*$";

const size = (description: string, dflt: string): JsonSchema => ({
  title: "a size such as 64MiB, 1GiB or a number of bytes",
  description,
  type: ["integer", "string"],
  minimum: 1,
  pattern: SIZE_PATTERN,
  default: dflt,
  examples: [dflt],
});

const regexList = (description: string): JsonSchema => ({
  description,
  type: "array",
  items: { type: "string", format: "regex" },
});

/** Which topics or groups: a list of names, or names and regular expressions with exclusions. */
const selection = (what: "topic" | "consumer group", example: string, more: Record<string, JsonSchema> = {}): JsonSchema => ({
  oneOf: [
    { type: "array", description: `${what} names`, items: { type: "string", minLength: 1 }, examples: [[example]] },
    {
      type: "object",
      additionalProperties: false,
      properties: {
        names: { description: `${what} names, exactly`, type: "array", items: { type: "string", minLength: 1 }, examples: [[example]] },
        regex: regexList(`regular expressions matched against whole ${what} names (Java-style, anchored at both ends)`),
        exclude: regexList(`regular expressions of ${what} names to leave out, even when listed or matched above`),
        ...more,
      },
    },
  ],
});

const pluginRef = (kind: string, builtins: string, dflt: string | null): JsonSchema => ({
  description: `the ${kind} plugin and its options${dflt ? ` (default: ${dflt})` : ""}`,
  type: "object",
  additionalProperties: false,
  required: ["plugin"],
  ...(dflt ? { default: { plugin: dflt } } : {}),
  properties: {
    plugin: {
      description: `a built-in ${kind} plugin (${builtins}; see \`klink plugins\`) or the path of your own plugin module (.ts or .js), relative to this file`,
      type: "string",
      minLength: 1,
      examples: builtins.split(", "),
    },
    options: { description: "the plugin's options, as its schema describes them (`klink plugins`)", type: "object", default: {} },
  },
});

/** Per-link settings that each topic may override; defaults only on the link itself. */
function topicSettings(withDefaults: boolean): Record<string, JsonSchema> {
  const d = (value: unknown) => (withDefaults ? { default: value } : {});
  return {
    start: {
      description:
        "where mirroring starts when a partition has no state yet: `earliest` (the source's log start), `latest` (its end), " +
        "or `{timestamp: 2024-05-01T00:00:00Z}` (the first record at or after that time; epoch milliseconds work too)",
      ...d("earliest"),
      oneOf: [
        { type: "string", enum: ["earliest", "latest"] },
        {
          type: "object",
          additionalProperties: false,
          required: ["timestamp"],
          properties: {
            timestamp: {
              description: "an ISO-8601 date-time with a time zone, or epoch milliseconds",
              type: ["string", "integer"],
              format: "date-time",
              examples: ["2024-05-01T00:00:00Z"],
            },
          },
        },
      ],
    },
    offsets: {
      description:
        "`exact`: target offset == source offset for every record, or refuse; `translate`: offsets may differ and a per-record offset map " +
        "is kept; `auto`: exact where possible, translate where not (`klink plan` says which partitions, and why)",
      type: "string",
      enum: ["exact", "translate", "auto"],
      ...d("auto"),
    },
    prefixFillLimit: {
      description:
        "exact offsets on a source partition that starts at offset S > 0 need S invisible filler slots on the target: the largest S klink " +
        "fills; above it `auto` translates and `exact` refuses",
      type: "integer",
      minimum: 0,
      ...d(10_000_000),
    },
    create: {
      description: "how missing target topics are created: always with the source's partition count",
      type: "object",
      additionalProperties: false,
      ...d({}),
      properties: {
        replicationFactor: { description: "replication factor on the target (default: the target broker's default.replication.factor)", type: "integer", minimum: 1 },
        copyConfigs: { description: "copy the source topic's configs (set on it, or its data settings inherited from its brokers); `klink plan` lists those not copied and why", type: "boolean", ...d(true) },
        configs: {
          description: "topic configs to set on the target, over the copied ones; null drops a copied one",
          type: "object",
          additionalProperties: { type: ["string", "number", "boolean", "null"] },
          examples: [{ "min.insync.replicas": 2, "retention.ms": null }],
        },
      },
    },
    configSync: {
      description:
        "keep the target topic's configs following the source's while the topic is mirrored (checked every 5 s), by the rules of `create` " +
        "(what is never copied and why; names under create.configs are the target's own); after promote the target is the authority and nothing is synced",
      type: "object",
      additionalProperties: false,
      ...d({}),
      properties: {
        enabled: { description: "sync configs (needs create.copyConfigs: without it nothing is copied from the source)", type: "boolean", ...d(true) },
        exclude: {
          description: "config names never synced: the target topic keeps its own (a topic override adds to the link's)",
          type: "array",
          items: { type: "string", minLength: 1 },
          ...d([]),
          examples: [["retention.ms", "segment.bytes"]],
        },
      },
    },
  };
}

const cluster = (role: "source" | "target"): JsonSchema => ({
  description: `the ${role} cluster`,
  type: "object",
  additionalProperties: false,
  required: ["bootstrap"],
  properties: {
    bootstrap: {
      description: "bootstrap servers: HOST:PORT, a comma-separated string or a list",
      oneOf: [
        { type: "string", minLength: 1 },
        { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
      ],
      examples: [`\${env:KLINK_${role.toUpperCase()}_BOOTSTRAP}`, "kafka-1:9092,kafka-2:9092"],
    },
    auth: pluginRef("auth", "sasl, tls, oauthbearer, msk-iam, gssapi", null),
    rack: { description: "this klink's rack, sent as client.rack (fetch from the nearest replica)", type: "string", minLength: 1 },
    librdkafka: {
      description: "raw librdkafka properties for every client of this cluster, under librdkafka's own names (CONFIGURATION.md)",
      type: "object",
      additionalProperties: { type: ["string", "number", "boolean"] },
      examples: [{ "socket.keepalive.enable": true, "metadata.max.age.ms": 60000 }],
    },
  },
});

export const migrationSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "klink migration.yaml",
  description: "One live migration of Kafka topics and consumer groups from a source cluster to a target cluster.",
  type: "object",
  additionalProperties: false,
  required: ["clusters", "link"],
  properties: {
    clusters: {
      description: "the two clusters",
      type: "object",
      additionalProperties: false,
      required: ["source", "target"],
      properties: { source: cluster("source"), target: cluster("target") },
    },
    link: {
      description: "what is mirrored from the source to the target, and how",
      type: "object",
      additionalProperties: false,
      required: ["name", "topics"],
      properties: {
        name: {
          description: "a name for this migration, unique among the migrations between these clusters (klink's client and transactional ids derive from it)",
          title: "a name of letters, digits, '.', '_' and '-' (at most 100)",
          type: "string",
          pattern: "^[A-Za-z0-9._-]{1,100}$",
          examples: ["orders-to-new-cluster"],
        },
        topics: {
          description: "the topics to mirror",
          ...selection("topic", "orders", {
            refreshSeconds: {
              description: "while `klink run` runs, the source's topics are listed this often (default 30): a new topic selected here is created on the target and copied from its first record",
              type: "integer",
              minimum: 1,
              maximum: 86400,
              examples: [30],
            },
          }),
        },
        ...topicSettings(true),
        groupOffsetSync: {
          description:
            "every 10 s, copy the committed offsets of consumer groups klink does not hand off (not under groups:, KIP-848, Kafka Streams) " +
            "on linked topics to the target, translated, while the group has no members on the target; never backwards",
          type: "boolean",
          default: false,
        },
        standby: {
          description:
            "run klink on several machines for this link (needs storage: plugin: kafka): each `klink run` joins the worker group klink-<link.name>-workers " +
            "on the target, one of them runs the link and the others wait; when it stops, dies or loses contact with the target for longer than the " +
            "session timeout (10 s), a waiting one takes over (docs/workers.md)",
          type: "boolean",
          default: false,
        },
        spread: {
          description:
            "with standby: the waiting klinks copy too. The one that runs the link lends plain mirroring partitions to the others, which copy " +
            "them as record batches at identical offsets (the fast lane); transactions, translate mode, and topics in a lifecycle step stay " +
            "with it (docs/workers.md, \"Spreading partitions\")",
          type: "boolean",
          default: false,
        },
        fastLane: {
          description:
            "copy plain mirroring partitions as record batches, byte for byte at identical offsets (no decompress, no recompress); " +
            "transactions, compacted gaps, translate mode and topics in a lifecycle step stay on the exact lane, and a partition moves " +
            "between the lanes only with nothing in flight (docs/fast-lane.md). Not with link.spread",
          type: "boolean",
          default: false,
        },
        failback: {
          description:
            "after promote, keep the source as a live replica of the target: klink goes on copying both ways (records written to the target " +
            "reach the source, exactly mapped), so `klink failback TOPIC` can move producers and groups back, even days later; `klink retire TOPIC` ends it",
          type: "boolean",
          default: false,
        },
        aclSync: {
          description:
            "copy the source's ACL bindings that concern this link to the target and keep them in sync (every 10 s): those on linked topics " +
            "(literal, prefixed or * patterns that match one), on the groups under groups:, on the cluster and on transactional ids; `klink plan` lists them",
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { description: "sync ACLs (klink's principal needs DESCRIBE on the source cluster and DESCRIBE and ALTER on the target cluster)", type: "boolean", default: false },
            deletions: {
              description: "a binding removed on the source: `mirror` removes it on the target too (only bindings klink created there), `keep` leaves it",
              type: "string",
              enum: ["keep", "mirror"],
              default: "keep",
            },
            principals: {
              description: "principals renamed on the target (source principal: target principal); null: that principal's bindings are not copied",
              type: "object",
              additionalProperties: { type: ["string", "null"], pattern: "^[^:]+:.+$", title: "a principal such as User:alice (TYPE:NAME)" },
              default: {},
              examples: [{ "User:alice": "User:alice@example.com", "User:old-service": null }],
            },
          },
        },
        overrides: {
          description: "settings for single topics, by exact name, over the link's",
          type: "object",
          additionalProperties: { type: "object", additionalProperties: false, properties: topicSettings(false) },
          examples: [{ orders: { start: "latest", offsets: "translate" } }],
        },
      },
    },
    groups: { description: "the consumer groups to hand off from the source to the target (default: none)", ...selection("consumer group", "billing") },
    cutover: pluginRef("cutover", "manual, auto", "manual"),
    storage: pluginRef("storage", "sqlite, kafka", "sqlite"),
    status: {
      description: "klink's HTTP status endpoint (`klink status` asks it)",
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        listen: {
          description: "HOST:PORT to listen on; loopback only unless you say otherwise",
          type: "string",
          pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):\\d{1,5}$",
          title: "HOST:PORT such as 127.0.0.1:8787",
          default: "127.0.0.1:8787",
        },
        tokenFile: {
          description: "where `klink run` writes the control token (owner-only) that `klink handoff|promote|rollback|resume` send; relative to this file",
          type: "string",
          minLength: 1,
          examples: ["migration.klink.token"],
        },
        allowRemote: {
          description: "let status.listen be a non-loopback address: anyone who reaches it reads the state, and control requests (still needing the token) travel unencrypted",
          type: "boolean",
          default: false,
        },
        hostNames: {
          description: "more names clients may use in the Host header to reach the endpoint (DNS names of this host); others are refused (no DNS rebinding)",
          type: "array",
          items: { type: "string", pattern: "^[A-Za-z0-9.-]{1,253}$" },
          default: [],
        },
      },
    },
    limits: {
      description: "resource limits of this klink process",
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        inFlightBytes: size("record bytes read from one cluster and not yet acknowledged by the other; fetching pauses above it", "256MiB"),
        memory: size("resident memory of klink in all (RSS); fetch requests are sized from it, and fetching pauses above 90% of it until below 70% (must exceed inFlightBytes)", "1GiB"),
      },
    },
  },
};
