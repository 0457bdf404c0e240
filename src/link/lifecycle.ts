/**
 * The lifecycle of a running link (docs/lifecycle.md): which groups are handed off, when topics are
 * promoted, and the operator's commands that reach the running instance (`klink handoff`,
 * `promote`, `rollback`, over the status endpoint). The cutover-policy plugin decides "now or not
 * yet"; the safety conditions are checked here whatever it says.
 */
import { Admin } from "../rdkafka/index.ts";
import type { Cutover } from "../../plugins/plugin.ts";
import { targetIsPrimary, type Store, type TopicLifecycle } from "../state/store.ts";
import type { MigrationConfig } from "../config/types.ts";
import { select } from "../config/select.ts";
import { globMatches } from "../config/glob.ts";
import type { Clients } from "./session.ts";
import type { Link } from "./link.ts";
import { GroupHandoff, type GroupProgress } from "./handoff.ts";
import type { ControlAnswer, ControlRequest } from "../status/server.ts";

/** A producer that wrote to the source less than this long ago still writes there. */
const SOURCE_QUIET_MS = 10_000;

export interface LifecycleOptions {
  config: MigrationConfig;
  clients: Clients;
  store: Store;
  link: Link;
  cutover: Cutover;
  /** Linked topics of this run. */
  topics: string[];
  /** The read fences' session timeout (link.standby: it must outlast a standby's takeover); GroupFence's default otherwise. */
  fenceSessionTimeoutMs?: number;
  log: (line: string) => void;
}

export class Lifecycle {
  private handoff: GroupHandoff | null = null;
  private readonly promoteRequested = new Set<string>();
  private timer: Timer | null = null;
  private readonly promoting = new Set<string>();

  constructor(private readonly options: LifecycleOptions) {}

  async start(): Promise<void> {
    const o = this.options;
    const admin = new Admin(o.clients.source.config, o.clients.source.options);
    let groups: string[];
    try {
      const existing = (await admin.listConsumerGroups()).map((g) => g.groupId);
      const found = select(o.config.groups, existing);
      groups = [...found.selected, ...found.missing];
    } finally {
      admin.close();
    }
    this.handoff = new GroupHandoff({
      linkName: o.config.link.name, source: o.clients.source, target: o.clients.target, store: o.store, cutover: o.cutover,
      groups, topics: o.topics, translate: (t, p, offset) => o.link.groupOffset(t, p, offset),
      translateBack: (t, p, offset) => o.link.groupOffsetToSource(t, p, offset), log: o.log,
      ...(o.fenceSessionTimeoutMs ? { fenceSessionTimeoutMs: o.fenceSessionTimeoutMs } : {}),
      onHandedOff: (_group, topics) => this.consumersMoving(topics),
    });
    await this.handoff.start();
    this.timer = setInterval(() => void this.tick(), 1_000);
  }

  /** A group reading these topics now reads on the target. */
  private async consumersMoving(topics: string[]): Promise<void> {
    for (const topic of topics) {
      const state = this.options.link.topicState(topic) ?? "mirroring";
      if (state !== "mirroring" && state !== "dual-write") continue;
      this.options.link.setTopicState(topic, "consumers-moving");
      await this.options.store.write([{ topic, state: "consumers-moving", detail: "a linked group reads it on the target" }]);
    }
  }

  /** Topics created on the source after start, now linked (new-topics.ts); the group handoff shares this list. */
  addTopics(names: string[]): void {
    this.options.topics.push(...names);
  }

  groups(): GroupProgress[] {
    return this.handoff?.progress() ?? [];
  }

  async control(r: ControlRequest): Promise<ControlAnswer> {
    if (r.action === "handoff") {
      if (!this.handoff) return { ok: false, message: "klink is still starting" };
      const message = r.dryRun ? this.handoff.preview(r.name) : this.handoff.request(r.name);
      return { ok: !message.includes("not linked"), message };
    }
    if (r.action === "resume") return this.resume(r.name);
    const topics = this.options.topics.filter((t) => globMatches(r.name, t));
    if (topics.length === 0) return { ok: false, message: `no linked topic matches ${r.name} (linked: ${this.options.topics.join(", ")})` };
    if (r.action === "promote") return r.dryRun ? this.promotePreview(topics, r.force) : this.promote(topics, r.force);
    if (r.action === "failback") return this.failback(topics);
    if (r.action === "retire") return this.retire(topics);
    return this.rollback(topics);
  }

  /** TOPIC|GLOB[:PARTITION]: stopped partitions start again (Link.resume). */
  private async resume(name: string): Promise<ControlAnswer> {
    const [glob, partition] = name.split(":") as [string, string | undefined];
    const topics = this.options.topics.filter((t) => globMatches(glob, t));
    if (topics.length === 0) return { ok: false, message: `no linked topic matches ${glob} (linked: ${this.options.topics.join(", ")})` };
    const lines: string[] = [];
    for (const topic of topics) lines.push(...(await this.options.link.resume(topic, partition === undefined ? null : Number(partition))));
    const ok = lines.some((l) => l.includes(": resumed at")) && !lines.some((l) => l.includes("still stopped"));
    return { ok, message: lines.join("\n") };
  }

  /** Before promote: groups handed off for these topics move back; the link keeps both clusters complete. */
  private async rollback(topics: string[]): Promise<ControlAnswer> {
    const promoted = topics.filter((t) => this.options.link.topicState(t) === "promoted");
    if (promoted.length) return { ok: false, message: `${promoted.join(", ")} promoted already: the target is primary, klink no longer copies them back` };
    const replicas = topics.filter((t) => this.options.link.topicState(t) === "promoted-replica");
    if (replicas.length) return { ok: false, message: `${replicas.join(", ")} promoted, with the source kept as a replica: klink failback moves clients back` };
    return this.moveBack(topics, "rolled back on request; the link keeps copying both ways");
  }

  /** After a promote with link.failback: the source is primary again (docs/lifecycle.md, "Failback"). */
  private async failback(topics: string[]): Promise<ControlAnswer> {
    const refused = topics.map((t) => [t, this.options.link.topicState(t) ?? "mirroring"] as const).filter(([, state]) => state !== "promoted-replica");
    if (refused.length) {
      return { ok: false, message: refused.map(([t, state]) => `${t}: ${state === "promoted" ? "promoted without a source replica (link.failback was off, or it was retired): klink no longer copies it back" : `not promoted (${state}): klink rollback moves its clients back`}`).join("\n") };
    }
    return this.moveBack(topics, "failed back after promote; the link keeps copying both ways");
  }

  /** Handed-off groups of `topics` are held on the source to move back (GroupHandoff.rollback); the topics are `rolled-back`. */
  private async moveBack(topics: string[], detail: string): Promise<ControlAnswer> {
    const lines = (await this.handoff?.rollback(topics)) ?? [];
    for (const topic of topics) {
      this.promoteRequested.delete(topic);
      this.options.link.setTopicState(topic, "rolled-back");
      await this.options.store.write([{ topic, state: "rolled-back", detail }]);
      lines.push(`${topic}: rolled back; clients may return to the source (klink keeps both clusters complete)`);
    }
    return { ok: true, message: lines.join("\n") };
  }

  /** Ends the source replica of promoted topics: drained both ways, their Fetcher and Router stop; `promoted` is final. */
  private async retire(topics: string[]): Promise<ControlAnswer> {
    const lines: string[] = [];
    let ok = true;
    for (const topic of topics) {
      const state = this.options.link.topicState(topic) ?? "mirroring";
      if (state !== "promoted-replica") {
        ok = false;
        lines.push(`${topic}: ${state === "promoted" ? "retired already" : `not promoted (${state}): promote it first`}`);
        continue;
      }
      await this.retireWhenDrained(topic, "on request; the source replica ended");
      lines.push(`${topic}: retired: klink no longer copies nor routes it; the source is no longer a replica`);
    }
    return { ok, message: lines.join("\n") };
  }

  /** Why `topic` cannot be promoted now (empty: it can). */
  private promoteBlockers(topic: string, dryRun = false): string[] {
    const reasons: string[] = [];
    const since = this.options.link.sinceLastSourceWrites().get(topic)!;
    const lending = this.options.link.lending;
    if (lending.lends(topic)) {
      if (!dryRun) lending.callBack(topic);
      reasons.push(`other workers copy partitions of ${topic} (link.spread), so this klink does not see whether a producer still writes them on the source: they come back to it now; ask again once it has copied them for ${SOURCE_QUIET_MS / 1000} s`);
    } else if (since < SOURCE_QUIET_MS) reasons.push(`a producer may still write to ${topic} on the source (the last record copied from there ${(since / 1000).toFixed(1)} s ago; promote waits for ${SOURCE_QUIET_MS / 1000} s of quiet)`);
    const reading = this.handoff?.readingOnSource(topic) ?? [];
    if (reading.length) reasons.push(`group(s) ${reading.join(", ")} still read ${topic} on the source`);
    return reasons;
  }

  private async promote(topics: string[], force: boolean): Promise<ControlAnswer> {
    const lines: string[] = [];
    let ok = true;
    for (const topic of topics) {
      if (targetIsPrimary(this.options.link.topicState(topic))) {
        lines.push(`${topic}: already promoted`);
        continue;
      }
      const blockers = this.promoteBlockers(topic);
      if (blockers.length && !force) {
        ok = false;
        lines.push(`${topic}: not promoted: ${blockers.join("; ")} (--force promotes anyway)`);
        continue;
      }
      this.promoteRequested.add(topic);
      await this.promoteNow(topic, force ? `forced${blockers.length ? ` (${blockers.join("; ")})` : ""}` : "on request");
      lines.push(this.options.config.link.failback
        ? `${topic}: promoted: the target is primary; klink keeps the source as a live replica (klink failback moves clients back, klink retire ends the replica)`
        : `${topic}: promoted: the target is primary; klink no longer copies nor routes it`);
    }
    return { ok, message: lines.join("\n") };
  }

  /** `promote --dry-run`: what promote would do now, from the same checks; changes nothing. */
  private promotePreview(topics: string[], force: boolean): ControlAnswer {
    let ok = true;
    const lines = topics.map((topic) => {
      if (targetIsPrimary(this.options.link.topicState(topic))) return `${topic}: already promoted`;
      const blockers = this.promoteBlockers(topic, true);
      if (blockers.length && !force) {
        ok = false;
        return `${topic}: would not be promoted now: ${blockers.join("; ")} (--force promotes anyway)`;
      }
      const then = this.options.config.link.failback ? "the target would be primary, the source kept as a live replica" : "once drained both ways the target is primary; klink would no longer copy nor route it";
      return `${topic}: would be promoted${blockers.length ? ` (forced: ${blockers.join("; ")})` : ""}: ${then}`;
    });
    return { ok, message: `dry run, nothing changed:\n${lines.join("\n")}` };
  }

  /**
   * With link.failback the source stays a replica: klink goes on copying both ways and only the
   * state says the target is primary. Otherwise the topic is retired at once.
   */
  private async promoteNow(topic: string, why: string): Promise<void> {
    if (!this.options.config.link.failback) return this.retireWhenDrained(topic, why);
    this.options.link.setTopicState(topic, "promoted-replica");
    await this.options.store.write([{ topic, state: "promoted-replica", detail: `promoted ${why}; the source is kept as a live replica` }]);
    this.options.log(`${topic}: promoted (${why}); the target is primary, the source is kept as a live replica (link.failback)`);
  }

  /** Waits until the topic is drained both ways, then stops its Fetcher and Router for good. */
  private async retireWhenDrained(topic: string, why: string): Promise<void> {
    if (this.promoting.has(topic)) return;
    this.promoting.add(topic);
    try {
      const f = this.options.link;
      while (!f.drained(topic)) await Bun.sleep(100);
      f.retire(topic);
      f.setTopicState(topic, "promoted");
      await this.options.store.write([{ topic, state: "promoted", detail: `promoted ${why}` }]);
      this.options.log(`${topic}: promoted (${why}); the target is primary`);
    } finally {
      this.promoting.delete(topic);
    }
  }

  /** Asks the cutover policy about every topic not promoted yet. */
  private async tick(): Promise<void> {
    const sinceLastSourceWrite = this.options.link.sinceLastSourceWrites(); // one pass: 1,000 topics × 10,000 partitions every second was a tenth of a core
    for (const topic of this.options.topics) {
      const state = this.options.link.topicState(topic) ?? "mirroring";
      if (targetIsPrimary(state) || this.promoting.has(topic)) continue;
      const reading = this.handoff?.readingOnSource(topic) ?? [];
      const facts = { topic, state, requested: this.promoteRequested.has(topic), sinceLastSourceWriteMs: sinceLastSourceWrite.get(topic) ?? null, groupsOnSource: reading.length };
      if (this.options.link.lending.lends(topic)) {
        // link.spread: the source writes of lent partitions are not seen here; if the policy would
        // promote were they quiet, call them back and decide on what this klink then sees
        if (this.options.cutover.promote({ ...facts, sinceLastSourceWriteMs: null }).go) this.options.link.lending.callBack(topic);
        continue;
      }
      const decision = this.options.cutover.promote(facts);
      if (decision.go && this.promoteBlockers(topic).length === 0) void this.promoteNow(topic, "by the cutover policy").catch((err) => this.options.log(`${topic}: promote failed: ${err.message}`));
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.handoff?.close();
  }
}
