/**
 * The connections of klink's group-protocol client to one cluster: one per broker address,
 * opened on first use and opened again when closed. A connection whose SASL session is about
 * to end (KIP-368: the broker closes it when, e.g., its OAUTHBEARER token expires) is replaced
 * by a new one that authenticates again with fresh credentials; the old one closes once its
 * requests are answered.
 *
 * `coordinated` runs a request against a group's coordinator and finds the coordinator again
 * while it moves or loads. `close()` closes every connection and ends every wait; nothing of the
 * client keeps the process alive afterwards.
 */
import { Connection } from "./connection.ts";
import { ConnectionError, GroupProtocolError, isCoordinatorError } from "./errors.ts";
import { DescribeTransactions, FindCoordinator } from "./messages.ts";

const GROUP = 0;
const TRANSACTION = 1;
type CoordinatorType = typeof GROUP | typeof TRANSACTION;
/** Kafka's error for a transactional id the coordinator has never seen (or has expired). */
const TRANSACTIONAL_ID_NOT_FOUND = 105;
/** Transaction states whose markers are not all written yet. */
const OPEN_STATES = new Set(["Ongoing", "PrepareCommit", "PrepareAbort", "PrepareEpochFence"]);
import { parseSettings, type BrokerAddress, type ConnectSettings, type GroupClientSettings } from "./settings.ts";

export class GroupClient {
  readonly settings: ConnectSettings;
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly coordinators = new Map<string, BrokerAddress>();
  private readonly sleeps = new Set<{ timer: Timer; reject: (e: Error) => void }>();
  private nextBootstrap = 0;
  private closed = false;

  /** Throws a SettingsError for settings it cannot honour. */
  constructor(settings: GroupClientSettings) {
    this.settings = parseSettings(settings);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A ready (connected, authenticated) connection to `address`. */
  async connection(address: BrokerAddress): Promise<Connection> {
    if (this.closed) throw new ConnectionError(`${address.host}:${address.port}`, "the group client is closed");
    const key = `${address.host}:${address.port}`;
    const current = this.connections.get(key);
    if (current) {
      const conn = await current.catch(() => null);
      if (conn && !conn.isClosed && !conn.sessionEnding) return conn;
      if (this.connections.get(key) !== current) return this.connection(address); // replaced meanwhile
      this.connections.delete(key);
      conn?.closeWhenIdle();
    }
    const opening = Connection.open(address, this.settings);
    this.connections.set(key, opening);
    try {
      const conn = await opening;
      if (this.closed) conn.close();
      return conn;
    } catch (err) {
      if (this.connections.get(key) === opening) this.connections.delete(key);
      throw err;
    }
  }

  /** A connection to any bootstrap broker, trying each in turn. */
  async anyBroker(): Promise<Connection> {
    const errors: ConnectionError[] = [];
    const brokers = this.settings.bootstrap;
    for (let i = 0; i < brokers.length; i++) {
      const address = brokers[(this.nextBootstrap + i) % brokers.length]!;
      try {
        return await this.connection(address);
      } catch (err) {
        if (!(err instanceof ConnectionError) || err.fatal) throw err;
        errors.push(err);
      }
    }
    this.nextBootstrap++;
    if (errors.length === 1) throw errors[0]!;
    throw new ConnectionError(brokers.map((b) => `${b.host}:${b.port}`).join(","), `no bootstrap broker answered: ${errors.map((e) => e.message).join("; ")}`);
  }

  /** Asks for the coordinator of a group (keyType 0) or of a transactional id (1) (no retries). */
  async findCoordinator(key: string, keyType: CoordinatorType = GROUP): Promise<BrokerAddress & { nodeId: number }> {
    const conn = await this.anyBroker();
    const what = keyType === GROUP ? `group ${key}` : `transactional id ${key}`;
    const r = await conn.request(FindCoordinator, { key, keyType, coordinatorKeys: [key] });
    const c = r.coordinators ? r.coordinators[0] : r;
    if (!c) throw new GroupProtocolError(-1, "FindCoordinator", what, "no coordinator in the response");
    if (c.errorCode) throw new GroupProtocolError(c.errorCode, "FindCoordinator", what, c.errorMessage);
    return { nodeId: c.nodeId!, host: c.host!, port: c.port! };
  }

  /**
   * Runs `fn` on a connection to the group's coordinator. While the coordinator is unknown, moving
   * (NOT_COORDINATOR), loading or unavailable, or its connection fails, finds it again and retries
   * with a growing pause, for up to `timeoutMs`. Other errors are thrown at once.
   */
  async coordinated<T>(groupId: string, fn: (conn: Connection) => Promise<T>, timeoutMs = this.settings.requestTimeoutMs, keyType: CoordinatorType = GROUP): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    const cacheKey = keyType === GROUP ? groupId : `\u0000txn\u0000${groupId}`;
    for (let attempt = 0; ; attempt++) {
      try {
        let address = this.coordinators.get(cacheKey);
        if (!address) {
          address = await this.findCoordinator(groupId, keyType);
          this.coordinators.set(cacheKey, address);
        }
        return await fn(await this.connection(address));
      } catch (err) {
        const retriable =
          (err instanceof GroupProtocolError && isCoordinatorError(err.code)) || (err instanceof ConnectionError && !err.fatal && !this.closed);
        if (!retriable || Date.now() >= deadline) throw err;
        this.coordinators.delete(cacheKey);
        await this.sleep(Math.min(100 * 2 ** attempt, 1000, Math.max(0, deadline - Date.now())));
      }
    }
  }

  /**
   * The partitions a transaction of `transactionalId` has open (empty when none is open): where
   * its abort markers land when a producer with that id is initialised.
   */
  async openTransactionPartitions(transactionalId: string): Promise<Array<{ topic: string; partition: number }>> {
    const what = `transactional id ${transactionalId}`;
    const state = await this.coordinated(transactionalId, async (conn) => {
      const r = await conn.request(DescribeTransactions, { transactionalIds: [transactionalId] });
      const s = r.transactionStates[0];
      if (!s) throw new GroupProtocolError(-1, "DescribeTransactions", what, "no state in the response");
      if (s.errorCode && s.errorCode !== TRANSACTIONAL_ID_NOT_FOUND) throw new GroupProtocolError(s.errorCode, "DescribeTransactions", what, null); // coordinator errors are retried
      return s;
    }, undefined, TRANSACTION);
    if (state.errorCode === TRANSACTIONAL_ID_NOT_FOUND || !OPEN_STATES.has(state.transactionState)) return [];
    return state.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
  }

  /** The coordinator of `groupId`, found with the retries of `coordinated`. */
  coordinator(groupId: string): Promise<BrokerAddress> {
    return this.coordinated(groupId, async (conn) => conn.address);
  }

  /** Forgets the coordinator of `groupId`, so the next request finds it again. */
  forgetCoordinator(groupId: string): void {
    this.coordinators.delete(groupId);
  }

  /** A pause that `close()` ends (with a ConnectionError), so no timer outlives the client. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionError("-", "the group client is closed"));
    return new Promise((resolve, reject) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeps.delete(entry);
          resolve();
        }, ms),
        reject,
      };
      this.sleeps.add(entry);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.reject(new ConnectionError("-", "the group client is closed"));
    }
    this.sleeps.clear();
    for (const p of this.connections.values()) p.then((c) => c.close(), () => undefined);
    this.connections.clear();
  }
}
