/**
 * The group client's codecs without a broker: wire primitives, the schema-derived encoder and
 * decoder (classic and flexible versions), the consumer protocol's embedded encodings, SCRAM
 * against RFC 7677's example, and settings that are refused.
 */
import { describe, expect, test } from "bun:test";
import { decodeAssignment, decodeSubscription, EMPTY_ASSIGNMENT, encodeAssignment, encodeSubscription } from "../../src/group/consumer-protocol.ts";
import { JoinGroup, OffsetCommit } from "../../src/group/messages.ts";
import { ScramClient } from "../../src/group/sasl.ts";
import { decode, encode } from "../../src/group/schema.ts";
import { parseSettings, SettingsError } from "../../src/group/settings.ts";
import { Reader, Writer } from "../../src/group/wire.ts";

describe("wire", () => {
  test("large byte arrays written by reference come out once, in order, with the fields around them", () => {
    const big = (n: number, v: number) => Buffer.alloc(n, v);
    const w = new Writer().int32(7).bytes(big(20_000, 1)).int16(-2).compactBytes(big(70_000, 2)).string("end");
    const out = w.finish();
    expect(out.length).toBe(w.length);
    const r = new Reader(out);
    expect(r.int32()).toBe(7);
    expect(r.bytes()).toEqual(big(20_000, 1));
    expect(r.int16()).toBe(-2);
    expect(r.compactBytes()).toEqual(big(70_000, 2));
    expect(r.string()).toBe("end");
    expect(r.remaining).toBe(0);
  });

  test("unsigned and signed varints round-trip, with Kafka's byte layout", () => {
    expect([...new Writer().uvarint(0).finish()]).toEqual([0]);
    expect([...new Writer().uvarint(127).finish()]).toEqual([0x7f]);
    expect([...new Writer().uvarint(128).finish()]).toEqual([0x80, 0x01]);
    expect([...new Writer().uvarint(300).finish()]).toEqual([0xac, 0x02]);
    expect([...new Writer().varint(-1).finish()]).toEqual([0x01]);
    expect([...new Writer().varint(1).finish()]).toEqual([0x02]);
    for (const v of [0, 1, 63, 64, 127, 128, 16383, 16384, 2 ** 31 - 1]) {
      expect(new Reader(new Writer().uvarint(v).finish()).uvarint()).toBe(v);
      expect(new Reader(new Writer().varint(-v - 1).finish()).varint()).toBe(-v - 1);
    }
  });

  test("classic and compact strings and bytes, null included", () => {
    const w = new Writer().string("héllo").string(null).compactString("ab").compactString(null).bytes(Buffer.from([1, 2])).bytes(null).compactBytes(Buffer.from([3])).compactBytes(null);
    const b = w.finish();
    // int16 length 6 (é is two bytes), then -1; compact: length+1
    expect([...b.subarray(0, 2)]).toEqual([0, 6]);
    const r = new Reader(b);
    expect([r.string(), r.string(), r.compactString(), r.compactString()]).toEqual(["héllo", null, "ab", null]);
    expect([...r.bytes()!]).toEqual([1, 2]);
    expect(r.bytes()).toBeNull();
    expect([...r.compactBytes()!]).toEqual([3]);
    expect(r.compactBytes()).toBeNull();
    expect(r.remaining).toBe(0);
  });

  test("a truncated message is an error, not garbage", () => {
    expect(() => new Reader(Buffer.from([0, 5, 0x61])).string()).toThrow(/truncated/);
  });

  test("unknown tagged fields are skipped", () => {
    const w = new Writer().uvarint(2).uvarint(0).uvarint(3).raw(Buffer.from("abc")).uvarint(7).uvarint(1).raw(Buffer.from([9])).int8(42);
    const r = new Reader(w.finish());
    r.skipTaggedFields();
    expect(r.int8()).toBe(42);
  });
});

describe("schema-derived codec", () => {
  const request = {
    groupId: "g",
    sessionTimeoutMs: 30000,
    rebalanceTimeoutMs: 60000,
    memberId: "",
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: Buffer.from([0, 0]) }],
    reason: "why",
  };

  test("JoinGroup v5 (classic) and v9 (flexible) encode their own layouts and decode back", () => {
    for (const version of [5, 6, 7, 8, 9]) {
      const flexible = version >= JoinGroup.flexibleFrom;
      const w = new Writer();
      encode(JoinGroup.request, version, flexible, request, w);
      const back = decode(JoinGroup.request, version, flexible, new Reader(w.finish()));
      expect(back.groupId).toBe("g");
      expect(back.groupInstanceId).toBeNull();
      expect(back.reason).toBe(version >= 8 ? "why" : undefined);
      expect([...(back.protocols as any)[0].metadata]).toEqual([0, 0]);
    }
    // v5: int16-length strings; v6: compact strings (length + 1) and tagged-field sections
    const v5 = new Writer();
    encode(JoinGroup.request, 5, false, request, v5);
    expect([...v5.finish().subarray(0, 3)]).toEqual([0, 1, 0x67]);
    const v6 = new Writer();
    encode(JoinGroup.request, 6, true, request, v6);
    expect([...v6.finish().subarray(0, 2)]).toEqual([2, 0x67]);
  });

  test("a missing required field is refused by name", () => {
    const { groupId: _, ...rest } = request;
    expect(() => encode(JoinGroup.request, 9, true, rest, new Writer())).toThrow("field groupId is required in version 9");
  });

  test("OffsetCommit v7 (classic) and v9 (flexible) round-trip nested arrays", () => {
    const body = {
      groupId: "g",
      generationIdOrMemberEpoch: 4,
      memberId: "m",
      groupInstanceId: "static-1",
      topics: [{ name: "t", partitions: [{ partitionIndex: 2, committedOffset: 2 ** 40, committedLeaderEpoch: -1, committedMetadata: null }] }],
    };
    for (const version of [7, 9]) {
      const w = new Writer();
      encode(OffsetCommit.request, version, version >= 8, body, w);
      expect(decode(OffsetCommit.request, version, version >= 8, new Reader(w.finish()))).toEqual(body);
    }
  });
});

describe("consumer protocol", () => {
  test("the fence's empty assignment is version 0, zero topics, null user data: exactly these 10 bytes", () => {
    expect([...EMPTY_ASSIGNMENT]).toEqual([0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    expect(decodeAssignment(EMPTY_ASSIGNMENT)).toEqual({ version: 0, assignedPartitions: [], userData: null });
  });

  test("an assignment with partitions round-trips", () => {
    const a = encodeAssignment([{ topic: "orders", partitions: [0, 2] }]);
    expect(decodeAssignment(a).assignedPartitions).toEqual([{ topic: "orders", partitions: [0, 2] }]);
  });

  /** A subscription as a member of that version writes it, built by hand. */
  function subscription(version: number): Buffer {
    const w = new Writer().int16(version).int32(1).string("orders").bytes(Buffer.from("ud"));
    if (version >= 1) w.int32(1).string("orders").int32(2).int32(0).int32(1);
    if (version >= 2) w.int32(7);
    if (version >= 3) w.string("rack-a");
    if (version >= 4) w.int32(123456); // a field a future version may append: ignored
    return Buffer.from(w.finish());
  }

  test("subscriptions of versions 0 to 3 (and a newer one) decode", () => {
    expect(decodeSubscription(subscription(0))).toMatchObject({ version: 0, topics: ["orders"] });
    expect(decodeSubscription(subscription(0)).ownedPartitions).toBeUndefined();
    expect(decodeSubscription(subscription(1)).ownedPartitions).toEqual([{ topic: "orders", partitions: [0, 1] }]);
    expect(decodeSubscription(subscription(2)).generationId).toBe(7);
    expect(decodeSubscription(subscription(3))).toMatchObject({ version: 3, topics: ["orders"], generationId: 7, rackId: "rack-a" });
    expect(decodeSubscription(subscription(4))).toMatchObject({ version: 4, rackId: "rack-a" });
    expect(decodeSubscription(subscription(3)).userData!.toString()).toBe("ud");
  });

  test("klink's own subscription is version 1 with its topics and no owned partitions", () => {
    expect(decodeSubscription(encodeSubscription(["a", "b"]))).toEqual({ version: 1, topics: ["a", "b"], userData: null, ownedPartitions: [] });
  });
});

describe("SCRAM", () => {
  test("RFC 7677's SCRAM-SHA-256 example: the same client-final-message, and the server's signature checks out", () => {
    const scram = new ScramClient("SCRAM-SHA-256", "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    expect(scram.clientFirst()).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    expect(scram.clientFinal(serverFirst)).toBe("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    expect(() => scram.verifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")).not.toThrow();
    expect(() => scram.verifyServerFinal("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")).toThrow(/signature does not match/);
  });

  test("a server nonce that does not extend the client's is refused", () => {
    const scram = new ScramClient("SCRAM-SHA-512", "user", "pencil", "abc");
    expect(() => scram.clientFinal("r=xyz,s=AAAA,i=4096")).toThrow(/unexpected server-first-message/);
  });
});

describe("settings", () => {
  const base = { "bootstrap.servers": "SASL_SSL://k1:9093,[::1]:9094" };

  test("librdkafka-style addresses and defaults", () => {
    const s = parseSettings({ config: base });
    expect(s.bootstrap).toEqual([{ host: "k1", port: 9093 }, { host: "::1", port: 9094 }]);
    expect(s).toMatchObject({ tls: null, sasl: null, clientId: "klink", requestTimeoutMs: 60000 });
  });

  test("TLS hostname verification follows ssl.endpoint.identification.algorithm (https by default)", () => {
    expect(parseSettings({ config: { ...base, "security.protocol": "SSL" } }).tls).toMatchObject({ verifyHostname: true, verifyCertificate: true });
    expect(parseSettings({ config: { ...base, "security.protocol": "ssl", "ssl.endpoint.identification.algorithm": "none" } }).tls!.verifyHostname).toBe(false);
  });

  test("unsupported settings are refused, naming the property", () => {
    const refused: Array<[Record<string, string>, string]> = [
      [{ "security.protocol": "ssl", "ssl.crl.location": "/etc/kafka/crl.pem" }, "'ssl.crl.location' is not supported"],
      [{ "security.protocol": "ssl", "ssl.cipher.suites": "ECDHE" }, "'ssl.cipher.suites' is not supported"],
      [{ "security.protocol": "sasl_plaintext", "sasl.mechanism": "DIGEST-MD5" }, "'sasl.mechanism' DIGEST-MD5 is not supported"],
      [{ "security.protocol": "sasl_plaintext", "sasl.kerberos.keytab": "/etc/klink.keytab" }, "'sasl.kerberos.keytab' is set without 'sasl.kerberos.principal'"],
      [{ "security.protocol": "sasl_plaintext", "sasl.mechanism": "OAUTHBEARER" }, "OAUTHBEARER needs a token function"],
      [{ "security.protocol": "sasl_plaintext", "sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.method": "oidc" }, "'sasl.oauthbearer.method' = 'oidc' is not supported"],
      [{ "security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "u" }, "'sasl.password' is required"],
      [{ "security.protocol": "ssl", "ssl.endpoint.identification.algorithm": "dns" }, "'ssl.endpoint.identification.algorithm' must be https or none"],
      [{ "security.protocol": "ssl", "ssl.ca.location": "/nonexistent/ca.pem" }, "'ssl.ca.location': cannot read /nonexistent/ca.pem: no such file"],
      [{ "security.protocol": "kerberos" }, "'security.protocol' must be"],
    ];
    for (const [extra, message] of refused) {
      expect(() => parseSettings({ config: { ...base, ...extra } })).toThrow(SettingsError);
      expect(() => parseSettings({ config: { ...base, ...extra } })).toThrow(message);
    }
    expect(() => parseSettings({ config: {} })).toThrow("'bootstrap.servers' is not set");
  });

  test("GSSAPI (librdkafka's default mechanism): service name, principal and keytab as librdkafka takes them", () => {
    expect(parseSettings({ config: { ...base, "security.protocol": "sasl_plaintext" } }).sasl).toEqual({ mechanism: "GSSAPI", kerberos: { serviceName: "kafka" } });
    const kerberos = { "sasl.kerberos.service.name": "kfk", "sasl.kerberos.principal": "klink@EXAMPLE.COM", "sasl.kerberos.keytab": "/etc/klink.keytab", "sasl.kerberos.min.time.before.relogin": "0" };
    expect(parseSettings({ config: { ...base, "security.protocol": "sasl_ssl", "sasl.mechanism": "GSSAPI", ...kerberos } }).sasl).toEqual({
      mechanism: "GSSAPI",
      kerberos: { serviceName: "kfk", principal: "klink@EXAMPLE.COM", keytab: "/etc/klink.keytab" },
    });
  });

  test("properties that only tune librdkafka are ignored", () => {
    expect(() => parseSettings({ config: { ...base, "fetch.max.bytes": 1024, "statistics.interval.ms": 0, "client.rack": "a" } })).not.toThrow();
  });
});
