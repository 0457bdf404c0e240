/**
 * A throwaway MIT Kerberos KDC for tests (Debian's krb5-kdc; scripts/setup.sh installs it): a temp
 * realm, a KDC on a free loopback port (UDP and TCP), the broker's service principal
 * kafka/127.0.0.1 and a client principal, with their keytabs, and the broker listener (startCluster's
 * `extraListener`) that accepts SASL GSSAPI with them.
 *
 * Everything names the broker 127.0.0.1, as the clients' bootstrap does: krb5.conf turns off DNS
 * canonicalisation and reverse lookups, or the service name would become kafka/localhost (or
 * worse) and the KDC would not know it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts, type ExtraListener } from "./cluster.ts";
import { registerPid, stopProcess } from "./state.ts";

export const REALM = "KLINK.TEST";
export const SERVICE = "kafka";
export const BROKER_HOST = "127.0.0.1";
export const SHORT_TICKET_SECONDS = 20;
/** The listener ends each SASL session after this long (KIP-368): clients authenticate again, with a ticket still valid. */
export const REAUTH_MS = 10_000;

export interface Kdc {
  dir: string;
  realm: string;
  port: number;
  pid: number;
  /** The krb5.conf clients must use (KRB5_CONFIG). */
  krb5Conf: string;
  client: { principal: string; keytab: string };
  /** A keytab of the client principal whose keys the KDC has since replaced (as after a password change). */
  staleKeytab: string;
  /** The GSSAPI listener for startCluster's `extraListener`. */
  listener: ExtraListener;
  /** A client principal whose tickets last SHORT_TICKET_SECONDS: its clients must get new ones from the keytab. */
  shortLived: { principal: string; keytab: string };
  stop(): Promise<void>;
}

const SBIN = "/usr/sbin";

export async function startKdc(parent = tmpdir()): Promise<Kdc> {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, "klink-kdc-"));
  const [port] = await freePorts(1);
  const krb5Conf = join(dir, "krb5.conf");
  const kdcConf = join(dir, "kdc.conf");
  writeFileSync(
    krb5Conf,
    `[libdefaults]
  default_realm = ${REALM}
  dns_canonicalize_hostname = false
  rdns = false
  dns_lookup_kdc = false
  dns_lookup_realm = false
  udp_preference_limit = 1
  default_ccache_name = FILE:${dir}/default-ccache
  default_client_keytab_name = FILE:${dir}/no-default-client.keytab

[realms]
  ${REALM} = {
    kdc = 127.0.0.1:${port}
  }

[domain_realm]
  127.0.0.1 = ${REALM}
  localhost = ${REALM}
`,
  );
  writeFileSync(
    kdcConf,
    `[kdcdefaults]
  kdc_ports = ${port}
  kdc_tcp_ports = ${port}

[realms]
  ${REALM} = {
    database_name = ${dir}/principal
    key_stash_file = ${dir}/stash
    acl_file = ${dir}/kadm5.acl
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    max_life = 10h
  }

[logging]
  kdc = FILE:${dir}/kdc.log
`,
  );
  writeFileSync(join(dir, "kadm5.acl"), "");
  const env = { ...process.env, KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: kdcConf };
  const run = (argv: string[]) => {
    const r = Bun.spawnSync(argv, { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`);
  };
  const kadmin = (query: string) => run([`${SBIN}/kadmin.local`, "-r", REALM, "-q", query]);
  run([`${SBIN}/kdb5_util`, "-r", REALM, "create", "-s", "-P", "klink-test-master-key"]);

  const brokerPrincipal = `${SERVICE}/${BROKER_HOST}@${REALM}`;
  const brokerKeytab = join(dir, "broker.keytab");
  kadmin(`addprinc -randkey ${brokerPrincipal}`);
  kadmin(`ktadd -k ${brokerKeytab} ${brokerPrincipal}`);
  const addClient = (name: string, stale?: string, maxLifeSeconds?: number) => {
    const principal = `${name}@${REALM}`;
    const keytab = join(dir, `${name}.keytab`);
    kadmin(`addprinc -randkey ${maxLifeSeconds ? `-maxlife "${maxLifeSeconds} seconds" ` : ""}${principal}`);
    // ktadd gives the principal new keys each time: a keytab written before the last one is stale
    if (stale) kadmin(`ktadd -k ${stale} ${principal}`);
    kadmin(`ktadd -k ${keytab} ${principal}`);
    return { principal, keytab };
  };
  const staleKeytab = join(dir, "stale.keytab");
  const client = addClient("klink", staleKeytab);
  const shortLived = addClient("klink-short", undefined, SHORT_TICKET_SECONDS);

  const marker = join(dir, "kdc.pid");
  const proc = Bun.spawn([`${SBIN}/krb5kdc`, "-n", "-r", REALM, "-P", marker], { cwd: dir, env, stdin: "ignore", stdout: Bun.file(join(dir, "kdc.out")), stderr: Bun.file(join(dir, "kdc.err")) });
  registerPid({ pid: proc.pid, marker, label: `krb5kdc ${dir}`, owner: process.pid });
  const stop = () => stopProcess(proc.pid, marker, 5_000);
  try {
    // alive while it has not exited (its /proc cmdline may still be Bun's for a moment after spawn)
    await waitForTcp(port!, () => proc.exitCode === null && proc.signalCode === null, join(dir, "kdc.log"));
  } catch (err) {
    await stop();
    throw err;
  }

  const listener: ExtraListener = {
    name: "KERBEROS",
    protocol: "SASL_PLAINTEXT",
    jvm: [`-Djava.security.krb5.conf=${krb5Conf}`],
    properties: {
      "listener.name.kerberos.sasl.enabled.mechanisms": "GSSAPI",
      "sasl.kerberos.service.name": SERVICE,
      // sessions end as on a broker with connections.max.reauth.ms: clients must authenticate again, with valid tickets
      "listener.name.kerberos.gssapi.connections.max.reauth.ms": String(REAUTH_MS),
      "listener.name.kerberos.gssapi.sasl.jaas.config":
        `com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="${brokerKeytab}" principal="${brokerPrincipal}";`,
    },
  };
  return { dir, realm: REALM, port: port!, pid: proc.pid, krb5Conf, client, shortLived, staleKeytab, listener, stop };
}

async function waitForTcp(port: number, alive: () => boolean, log: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const open = await new Promise<boolean>((res) => {
      const s = createConnection({ port, host: "127.0.0.1" });
      s.once("connect", () => (s.destroy(), res(true)));
      s.once("error", () => res(false));
    });
    if (open) return;
    if (!alive() || Date.now() > deadline) throw new Error(`krb5kdc did not start on 127.0.0.1:${port}; see ${log}`);
    await Bun.sleep(100);
  }
}
