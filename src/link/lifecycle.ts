/**
 * The lifecycle of a running link (docs/lifecycle.md): which groups are handed off, when topics are
 * promoted, and the operator's commands that reach the running instance (`klink handoff`,
 * `promote`, `rollback`, over the status endpoint). The cutover-policy plugin decides "now or not
 * yet"; the safety conditions are checked here whatever it says.
 */
import { Admin } from "../rdkafka/index.ts";
import type { Cutover } from "../../plugins/plugin.ts";
import type { Store, TopicLifecycle } from "../state/store.ts";
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
    const lines = (await this.handoff?.rollback(topics)) ?? [];
    for (const topic of topics) {
      this.promoteRequested.delete(topic);
      this.options.link.setTopicState(topic, "rolled-back");
      await this.options.store.write([{ topic, state: "rolled-back", detail: "rolled back on request; the link keeps copying both ways" }]);
      lines.push(`${topic}: rolled back; clients may return to the source (klink keeps both clusters complete)`);
    }
    return { ok: true, message: lines.join("\n") };
  }

  /** Why `topic` cannot be promoted now (empty: it can). */
  private promoteBlockers(topic: string): string[] {
    const reasons: string[] = [];
    const since = this.options.link.sinceLastSourceWrite(topic);
    if (since < SOURCE_QUIET_MS) reasons.push(`a producer may still write to ${topic} on the source (the last record copied from there ${(since / 1000).toFixed(1)} s ago; promote waits for ${SOURCE_QUIET_MS / 1000} s of quiet)`);
    const reading = this.handoff?.readingOnSource(topic) ?? [];
    if (reading.length) reasons.push(`group(s) ${reading.join(", ")} still read ${topic} on the source`);
    return reasons;
  }

  private async promote(topics: string[], force: boolean): Promise<ControlAnswer> {
    const lines: string[] = [];
    let ok = true;
    for (const topic of topics) {
      if (this.options.link.topicState(topic) === "promoted") {
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
      await this.retireWhenDrained(topic, force ? `forced${blockers.length ? ` (${blockers.join("; ")})` : ""}` : "on request");
      lines.push(`${topic}: promoted: the target is primary; klink no longer copies nor routes it`);
    }
    return { ok, message: lines.join("\n") };
  }

  /** `promote --dry-run`: what promote would do now, from the same checks; changes nothing. */
  private promotePreview(topics: string[], force: boolean): ControlAnswer {
    let ok = true;
    const lines = topics.map((topic) => {
      if (this.options.link.topicState(topic) === "promoted") return `${topic}: already promoted`;
      const blockers = this.promoteBlockers(topic);
      if (blockers.length && !force) {
        ok = false;
        return `${topic}: would not be promoted now: ${blockers.join("; ")} (--force promotes anyway)`;
      }
      return `${topic}: would be promoted${blockers.length ? ` (forced: ${blockers.join("; ")})` : ""}: once drained both ways the target is primary; klink would no longer copy nor route it`;
    });
    return { ok, message: `dry run, nothing changed:\n${lines.join("\n")}` };
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
    for (const topic of this.options.topics) {
      const state = this.options.link.topicState(topic) ?? "mirroring";
      if (state === "promoted" || this.promoting.has(topic)) continue;
      const reading = this.handoff?.readingOnSource(topic) ?? [];
      const decision = this.options.cutover.promote({
        topic, state, requested: this.promoteRequested.has(topic),
        sinceLastSourceWriteMs: this.options.link.sinceLastSourceWrite(topic), groupsOnSource: reading.length,
      });
      if (decision.go && this.promoteBlockers(topic).length === 0) void this.retireWhenDrained(topic, "by the cutover policy").catch((err) => this.options.log(`${topic}: promote failed: ${err.message}`));
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.handoff?.close();
  }
}
