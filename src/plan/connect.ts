/**
 * Connecting to a cluster of the migration for read-only admin calls, failing fast and in one
 * line when it cannot work: wrong credentials, a TLS failure, no broker reachable.
 *
 * librdkafka keeps retrying such failures and reports them as error events, while an admin
 * request waiting for a broker would only time out. So a short-lived admin client sends
 * DescribeCluster in short attempts while its error events are watched; a fatal one is reported
 * as soon as the attempt in flight has ended (librdkafka must not answer into a freed handle).
 */
import { Admin, type ClusterDescription } from "../rdkafka/admin.ts";
import { KafkaError } from "../rdkafka/errors.ts";
import type { ClientSettings } from "../config/clients.ts";
import { log } from "../log.ts";

const TRANSPORT = -195;
const ALL_BROKERS_DOWN = -187;
const FAIL_FAST = new Set([-169, -181, -187, -193, 58]); // _AUTHENTICATION, _SSL, _ALL_BROKERS_DOWN, _RESOLVE, SASL_AUTHENTICATION_FAILED
const TIMED_OUT = -185;
/** Short attempts, so a fatal error is reported within about a second; a slow handshake gets several. */
const PROBE_ATTEMPT_MS = 1_000;
const PROBE_TOTAL_MS = 15_000;

/** An admin client for `role`, after one successful DescribeCluster; throws a one-line KafkaError. */
export async function connectAdmin(role: "source" | "target", bootstrap: string, settings: ClientSettings): Promise<{ admin: Admin; cluster: ClusterDescription }> {
  const config = quiet(settings.config);
  let onFatal: (e: KafkaError) => void = () => {};
  const fatal = new Promise<KafkaError>((resolve) => (onFatal = resolve));
  let lastTransport: KafkaError | null = null; // says why the brokers are "down"
  const onError = (e: KafkaError) => {
    if (e.code === TRANSPORT) lastTransport = e;
    else if (e.code === ALL_BROKERS_DOWN && lastTransport) onFatal(new KafkaError(e.code, `${reason(lastTransport)}`));
    else if (FAIL_FAST.has(e.code)) onFatal(e);
  };
  const probe = new Admin(config, { ...settings.options, timeoutMs: PROBE_ATTEMPT_MS, onError });
  let failure: KafkaError | null = null;
  try {
    for (const deadline = Date.now() + PROBE_TOTAL_MS; ; ) {
      const request = probe.describeCluster();
      const outcome = await Promise.race([request.then(() => "ok" as const, (e: unknown) => e), fatal]);
      if (outcome === "ok") break;
      await request.catch(() => {}); // the probe is freed only once no request is pending
      if (outcome instanceof KafkaError && (outcome.code !== TIMED_OUT || Date.now() > deadline)) {
        failure = outcome;
        break;
      }
      if (!(outcome instanceof KafkaError)) throw outcome;
    }
  } finally {
    probe.close();
  }
  if (failure) throw new KafkaError(failure.code, `${role} cluster (${bootstrap}): ${reason(failure)}${hint(failure, settings.config["sasl.mechanism"])}`);
  const admin = new Admin(config, settings.options);
  return { admin, cluster: await admin.describeCluster() };
}

/** librdkafka's message without our client name and the " (CODE)" KafkaError adds (it is added again). */
function reason(err: KafkaError): string {
  return err.message.replace(/^\S+#(producer|consumer)-\d+: /, "").replace(new RegExp(` \\(${err.codeName}\\)$`), "");
}

/** What to check, for the failures an operator meets first. */
function hint(err: KafkaError, saslMechanism: unknown): string {
  if ((err.code === -169 || err.code === 58) && saslMechanism === "OAUTHBEARER") {
    return "; check the token the oauthbearer plugin's `command` or `file` gives (msk-iam: the `region`, and that the IAM identity may kafka-cluster:Connect)";
  }
  if (err.code === -169 || err.code === 58) return "; check the auth plugin's username, password and mechanism";
  if (/certificate verify failed/.test(err.message)) return "; give the CA that signed the brokers' certificates as the auth plugin's tls option `ca`";
  if (/alert (bad certificate|certificate required)/.test(err.message)) return "; the brokers want a client certificate: tls options `certificate` and `key`, or `keystore`";
  return "";
}

/**
 * librdkafka prints its own log lines to stderr; an error event carries the same news, so keep
 * those lines for debugging (-v, KLINK_DEBUG, or a log_level the user set).
 */
function quiet(config: ClientSettings["config"]): ClientSettings["config"] {
  if (process.env.KLINK_DEBUG || log.enabled("debug") || config.log_level !== undefined) return config;
  return { ...config, log_level: 2 };
}
