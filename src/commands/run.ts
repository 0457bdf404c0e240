import { hostname } from "node:os";
import type { Command } from "./command.ts";
import { EXIT_OK, EXIT_RUNTIME, EXIT_USER } from "./command.ts";
import { checkSource } from "../plan/source-check.ts";
import { fileArg, parseArgs, type ArgSpec } from "./args.ts";
import { loadForCommand } from "./load-config.ts";
import { Admin } from "../rdkafka/index.ts";
import { Link } from "../link/link.ts";
import { clusterClients, reachClusters, openStore, linkedTopics, linkedTopic, selectTopics } from "../link/session.ts";
import { ProgressReporter } from "../status/progress.ts";
import { startStatusServer, StatusServerError } from "../status/server.ts";
import { StatusView } from "../status/status-view.ts";
import { Lifecycle } from "../link/lifecycle.ts";
import { startPlugin } from "../../plugins/registry.ts";
import { pluginContext } from "../config/clients.ts";
import { formatPath } from "../config/issues.ts";
import { StateInUseError, type Store } from "../state/store.ts";
import { linkId } from "../status/identity.ts";
import { stateKey } from "../link/partition/state.ts";
import { metricsResponse, timeStateWrites } from "../status/metrics.ts";
import { onStopSignals } from "./stop-signals.ts";
import { TokenFileError, writeToken } from "../status/token.ts";
import { LOG_OPTIONS_USAGE } from "./log-options.ts";
import { log as logger } from "../log.ts";
import { AclSync } from "../link/acl-sync.ts";
import { WorkerRoster } from "../workers/worker-roster.ts";
import { groupSettings } from "../link/cluster.ts";
import { ownLink, RELEASED_KEY, STANDBY_FENCE_SESSION_MS, workerGroupId, type LinkOwnership } from "../workers/link-ownership.ts";
import { STANDBY_MESSAGE_TIMEOUT_MS } from "../config/copying-clients.ts";
import { SpreadPartitions, TAKEOVER_WAIT_MS } from "../workers/spread-partitions.ts";
import { LocalFastLane } from "../workers/local-fast-lane.ts";
import { FORWARD_KEY, forwardingControl, newForwardKey, statusAddress } from "../status/forward-control.ts";

/** The forward key the klink that runs the link keeps in its state (read-only: a snapshot of the state). */
async function readForwardKey(config: Parameters<typeof openStore>[0]): Promise<string | null> {
  const state = await openStore(config, true);
  try {
    return await state.get(FORWARD_KEY);
  } finally {
    await state.close();
  }
}

const usage = `klink run [FILE] [--until-caught-up] [--log-format text|json] [-v|-q]

Mirrors every topic linked by FILE from the source to the target cluster, each record at the
same offset (exact mode): creates missing target topics, aligns each partition's start, copies,
and resumes after any stop. Source topics created while it runs that link.topics selects are
linked at the next check (link.topics.refreshSeconds, default 30). Once producers write to the target too, routes their records back to
the source (dual write, with an exact offset map). Holds the linked consumer groups on the target
(the read fence) and hands them over when they have left the source (\`klink handoff\`,
cutover/auto); \`klink promote\` and \`klink rollback\` talk to this running instance. Runs until
Ctrl-C (or SIGTERM), then stops cleanly; a kill -9 loses nothing either.

Progress is printed per topic (records/s, MB/s, lag); \`klink status FILE\` asks the running
instance over its status endpoint (status.listen in FILE). FILE defaults to ./migration.yaml.

Options:
  --until-caught-up   stop once every partition has copied everything the source had

${LOG_OPTIONS_USAGE}

One instance runs a link: with storage/sqlite a second one is refused before it touches a
cluster; with storage/kafka a new one takes over and the old one stops copying and exits, unless
link.standby is true: then it waits, and takes over when the running one stops, dies or loses its
lease (docs/workers.md).

Exit codes: 0 stopped on request or caught up, 1 invalid FILE, 2 a cluster cannot be reached,
a partition stopped with an error (the error is printed), another instance holds the state or
took it over, its standby lease ended, or status.listen cannot listen.`;

const spec: ArgSpec = { flags: ["--until-caught-up"], positionals: ["[FILE]"], log: true };

export const run: Command = {
  name: "run",
  summary: "mirror source → target at identical offsets, route dual writes back, hand groups over",
  usage,
  spec,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { ...spec, usage });
    const loaded = await loadForCommand("run", fileArg(positionals));
    if (typeof loaded === "number") return loaded;
    const { config } = loaded;
    if (config.link.spread && flags.has("--until-caught-up")) {
      logger.report("error", "klink run: --until-caught-up cannot be used with link.spread (the partitions other workers copy are not seen from one klink); run without it");
      return EXIT_USER;
    }
    let link: Link | null = null;
    let lane: LocalFastLane | null = null;
    const progress = () => [...(link?.progress() ?? []), ...(lane?.progress() ?? [])];
    let lifecycle: Lifecycle | null = null;
    let opened: { id: string; state: string } | null = null;
    let token: string | null = null;
    let forwardKey: string | null = null;
    // link.standby: while another klink runs the link, commands are forwarded to it
    let standingBy = config.link.standby;
    const forwarding = forwardingControl({ linkName: config.link.name, roster: () => roster?.latest() ?? null, forwardKey: () => readForwardKey(config) });
    const reporter = new ProgressReporter(progress);
    const log = (line: string) => logger.info(line);
    const view = new StatusView(() => (lifecycle ? { partitions: progress(), groups: lifecycle.groups(), clusters: link!.clusters() } : null));

    // Before any cluster is touched: the status address (a second instance of this file finds the
    // first one there), then the state (its store refuses another writer, or fences it).
    let server: ReturnType<typeof Bun.serve>;
    let store: Store;
    let roster: WorkerRoster | null = null;
    const stopServing = () => (server.stop(true), roster?.close());
    try {
      server = await startStatusServer(config, {
        opened: () => opened,
        snapshot: (history) => view.snapshot(history),
        phase: () => view.phase,
        workers: () => roster?.latest() ?? null,
        control: () => (lifecycle ? (r) => lifecycle!.control(r) : standingBy ? forwarding : null),
        metrics: () => metricsResponse({
          link: config.link.name,
          workers: roster?.latest() ?? null,
          running: lifecycle ? { partitions: progress(), groups: lifecycle.groups(), producerQueues: link!.producerQueues(), clusters: link!.clusters() } : null,
        }),
        token: () => token,
        forwardKey: () => forwardKey,
        log,
      });
    } catch (err) {
      if (!(err instanceof StatusServerError)) throw err;
      logger.report("error", `klink run: ${err.message}`);
      return EXIT_RUNTIME;
    }
    try {
      await reachClusters(config, false, (role, bootstrap) => (view.phase = `connecting to the ${role} cluster (${bootstrap})`)); // nothing is written before both clusters answered
      // Only once the address is ours: a second instance, refused above, must not replace the first one's token.
      token = writeToken(config.status.tokenFile);
    } catch (err) {
      stopServing();
      if (!(err instanceof TokenFileError)) throw err;
      logger.report("error", `klink run: ${err.message}`);
      return EXIT_RUNTIME;
    }
    // link.standby: wait until the worker group gives this process the link (src/workers/link-ownership.ts)
    let ownership: LinkOwnership | null = null;
    let spread: SpreadPartitions | null = null;
    let standbyClients: Awaited<ReturnType<typeof clusterClients>> | null = null;
    let linkEnded!: () => void;
    const ended = new Promise<void>((r) => (linkEnded = r));
    if (config.link.standby) {
      view.phase = `standby: waiting for the link (worker group ${workerGroupId(config.link.name)} on the target)`;
      let cancel!: () => void;
      const cancelled = new Promise<void>((r) => (cancel = r));
      process.on("SIGTERM", cancel);
      process.on("SIGINT", cancel);
      try {
        standbyClients = await clusterClients(config, false);
        roster = new WorkerRoster(groupSettings(standbyClients.target), workerGroupId(config.link.name));
        if (config.link.spread) spread = new SpreadPartitions({ source: standbyClients.source, target: standbyClients.target, log });
        ownership = await ownLink({
          linkName: config.link.name, target: standbyClients.target, status: statusAddress(config.status),
          stopping: () => (link?.stop(), link ? ended : Promise.resolve()), log, cancel: cancelled, spread,
        });
      } catch {
        log("stopped while standing by");
        await spread?.close();
        stopServing();
        return EXIT_OK;
      } finally {
        process.off("SIGTERM", cancel);
        process.off("SIGINT", cancel);
      }
      standingBy = false;
      log(`this klink runs link ${config.link.name} (worker group ${workerGroupId(config.link.name)})`);
    }
    try {
      view.phase = "opening the state";
      store = timeStateWrites(await openStore(config, false));
    } catch (err) {
      stopServing();
      await ownership?.leave();
      await spread?.close();
      if (!(err instanceof StateInUseError)) throw err;
      logger.report("error", `klink run: ${err.message}`);
      return EXIT_RUNTIME;
    }
    const hadState = (await store.get(stateKey.linkId)) !== null; // an earlier klink ran this link
    if (ownership) {
      const key = newForwardKey();
      await store.write([{ put: FORWARD_KEY, value: key }]);
      forwardKey = key;
    }
    opened = { id: await linkId(store), state: store.location };
    let fenced: Error | null = null;
    void store.fenced?.then((err) => {
      fenced = err;
      logger.error(`${err.message}; stopping`);
      link?.stop();
    });
    void ownership?.lost.then((reason) => {
      fenced = new Error(reason); // as a fence: stop copying, exit 2
      logger.error(`${reason}; stopping`);
      link?.stop();
    });
    if (spread && ownership) {
      // the Link starts every partition: only once no other worker copies one (they let go of them in the round that gave this one the link)
      view.phase = "waiting until no other worker copies a partition of the link";
      await ownership.alone();
    }
    if (ownership) {
      // the previous owner let go cleanly (everything acknowledged), or what it queued must expire first
      const released = await store.get(RELEASED_KEY);
      await store.write([{ put: RELEASED_KEY, value: null }]);
      if (spread && hadState) {
        view.phase = "waiting until records other workers still held can no longer be written";
        log(`link.spread: waiting ${TAKEOVER_WAIT_MS / 1000} s, until records the workers that copied this link's partitions before still held can no longer be written (message.timeout.ms)`);
        await Bun.sleep(TAKEOVER_WAIT_MS);
      } else if (!released && hadState) {
        view.phase = "waiting until records the previous owner still held can no longer be written";
        log(`the klink that ran link ${config.link.name} before did not let go of it cleanly: waiting ${STANDBY_MESSAGE_TIMEOUT_MS / 1000 + 1} s, until records it still held can no longer be written (message.timeout.ms)`);
        await Bun.sleep(STANDBY_MESSAGE_TIMEOUT_MS + 1_000);
      }
    }
    view.phase = "listing the linked topics on the source";
    const clients = standbyClients ?? (await clusterClients(config, false));
    // an old source: say what klink cannot do there (as `plan` does), and refuse before copying what it cannot copy
    const source = await checkSource(config, clients.source);
    for (const p of source.problems) logger[p.severity === "error" ? "error" : "warn"](`${p.subject}: ${p.message}`);
    if (source.problems.some((p) => p.severity === "error")) {
      stopServing();
      await store.close();
      await ownership?.leave();
      await spread?.close();
      return EXIT_USER;
    }
    const sourceAdmin = new Admin(clients.source.config, clients.source.options);
    let topics;
    try {
      topics = await linkedTopics(config, sourceAdmin, undefined, (missing) =>
        logger.warn(`link.topics names topics the source does not have (yet): ${missing.join(", ")}; each is linked once created there (looked for every ${config.link.topicsRefreshSeconds} s)`));
    } finally {
      sourceAdmin.close();
    }
    const promoted = new Set((await store.topics()).filter((t) => t.state === "promoted").map((t) => t.topic));
    for (const t of topics.filter((t) => promoted.has(t.name))) log(`${t.name}: promoted earlier; not copied any more`);
    topics = topics.filter((t) => !promoted.has(t.name));
    if (topics.length === 0) {
      log("no source topic matches link.topics: nothing to do");
      stopServing();
      await store.close();
      await ownership?.leave();
      await spread?.close();
      return EXIT_OK;
    }
    if (fenced) {
      stopServing();
      await store.close().catch(() => {});
      await ownership?.leave();
      await spread?.close();
      return EXIT_RUNTIME;
    }
    link = new Link({
      linkName: config.link.name, source: clients.source, target: clients.target, topics, store,
      maxInFlightBytes: config.limits.inFlightBytes, memoryBytes: config.limits.memoryBytes, log,
      groupOffsetSync: config.link.groupOffsetSync ? { groups: config.groups } : null,
      standby: ownership ? { mayWrite: () => ownership!.mayWrite(), messageTimeoutMs: STANDBY_MESSAGE_TIMEOUT_MS } : null,
      newTopics: {
        intervalMs: config.link.topicsRefreshSeconds * 1000,
        select: (existing) => selectTopics(config, existing).selected.filter((name) => !promoted.has(name)).map((name) => linkedTopic(config, name)),
        linked: (names) => {
          life.addTopics(names);
          acls?.addTopics(names);
        },
      },
    });
    const running = link;
    const acls = config.link.aclSync.enabled
      ? new AclSync({ source: clients.source, target: clients.target, store, settings: config.link.aclSync, topics: topics.map((t) => t.name), groups: config.groups, log })
      : null;
    const cutover = await startPlugin(config.cutover.plugin, config.cutover.options, pluginContext(config, false), formatPath(config.cutover.path));
    const life = new Lifecycle({
      config, clients, store, link: running, cutover, topics: topics.map((t) => t.name), log,
      ...(ownership ? { fenceSessionTimeoutMs: STANDBY_FENCE_SESSION_MS } : {}),
    });
    const offSignals = onStopSignals(() => running.stop(), (line) => logger.warn(line));
    try {
      view.phase = `starting ${topics.length} topic(s): creating missing ones on the target, aligning each partition's start`;
      await running.start();
      await spread?.runLink(running.lending);
      if (config.link.fastLane) {
        lane = new LocalFastLane({ source: clients.source, target: clients.target, lending: running.lending, mayWrite: () => !fenced && (ownership?.mayWrite() ?? true), log });
        lane.start();
      }
      acls?.start();
      view.phase = "holding the linked groups on the target (the read fence)";
      await life.start();
      lifecycle = life;
      log(`mirroring ${topics.length} topic(s) ${topics.map((t) => t.name).join(", ")}; status on http://${config.status.host}:${config.status.port}/status`);
      reporter.start();
      view.start();
      if (!fenced) await running.run(flags.has("--until-caught-up"));
      if (ownership && !ownership.mayWrite() && !fenced) {
        fenced = new Error(`worker group ${workerGroupId(config.link.name)}: this klink's lease on the link ended (no answer from the group's coordinator in time)`);
        logger.error(`${fenced.message}; stopping`);
      }
    } catch (err) {
      if (!fenced) throw err; // after a fence, a failure is its consequence, and the fence is said
    } finally {
      reporter.stop();
      view.stop();
      stopServing();
      life.close();
      await lane?.close(); // its partitions resume from the target's end at the next start, as the Link's own do
      const closed = await running.close().then(() => true, (err) => (logger.warn(`closing: ${err.message}`), false));
      if (ownership && closed && !fenced) {
        await store.write([{ put: RELEASED_KEY, value: JSON.stringify({ host: hostname(), pid: process.pid, at: new Date().toISOString() }) }]).catch(() => {});
      }
      await acls?.close();
      await spread?.close();
      await store.close().catch((err) => logger.warn(`closing the state: ${err.message}`));
      offSignals();
      linkEnded();
      await ownership?.leave(); // a standby takes over now, not after the session timeout
    }
    if (fenced) return EXIT_RUNTIME;
    reporter.report(true);
    const failed = running.progress().filter((p) => p.error);
    for (const p of failed) {
      if (p.retrying) logger.warn(`${p.topic}[${p.partition}] interrupted: ${p.error}; the next start of klink resumes it`, { topic: p.topic, partition: p.partition });
      else logger.error(`${p.topic}[${p.partition}] stopped: ${p.error}`, { topic: p.topic, partition: p.partition });
    }
    return failed.length ? EXIT_RUNTIME : EXIT_OK;
  },
};
