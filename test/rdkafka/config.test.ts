import { test, expect } from "bun:test";
import { Producer, Consumer, KafkaError } from "../../src/rdkafka/index.ts";
import { isSecretKey } from "../../src/rdkafka/config.ts";

test("an unknown librdkafka property names the key and librdkafka's message", () => {
  const err = (() => {
    try {
      new Producer({ "bootstrap.servers": "127.0.0.1:1", "bootstrap.server": "x" });
    } catch (e) {
      return e as KafkaError;
    }
  })();
  expect(err).toBeInstanceOf(KafkaError);
  expect(err!.message).toBe(`librdkafka configuration: unknown property 'bootstrap.server' (No such configuration property: "bootstrap.server") (_INVALID_ARG)`);
  expect(err!.code).toBe(-186);
});

test("an invalid value names key, value and reason; secret values are redacted", () => {
  expect(() => new Consumer({ "bootstrap.servers": "127.0.0.1:1", "isolation.level": "sometimes" })).toThrow(
    /invalid value "sometimes" for 'isolation.level': .*Invalid value "sometimes" for configuration property "isolation.level"/,
  );
  // Values under secret keys are never shown in errors.
  expect(isSecretKey("sasl.password")).toBe(true);
  expect(isSecretKey("ssl.key.password")).toBe(true);
  expect(isSecretKey("sasl.oauthbearer.client.secret")).toBe(true);
  expect(isSecretKey("ssl.key.location")).toBe(false);
  expect(isSecretKey("linger.ms")).toBe(false);
});
