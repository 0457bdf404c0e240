/**
 * Topics created on the source while klink runs. Every `link.topics.refreshSeconds` the source's
 * topics are listed in the background; a topic link.topics selects that this run does not link yet
 * is then linked by the run loop (it assigns partitions), as at start: its target topic is created,
 * and its partitions are copied from their first record whatever link.start says (all of the topic
 * is new since klink started, as for partitions added to a topic). A topic that cannot be linked
 * (the target refuses to create it, a leader not elected yet) is reported with the reason and
 * looked at again at the next check; the others go on.
 *
 * A linked topic deleted on the source stays in the list: its partitions stop (watchers.ts), and a
 * topic created again under its name is linked again by `klink resume` or a restart, not here.
 */
import { BackgroundRound } from "./background-round.ts";
import { inParallel } from "./in-parallel.ts";
import type { Admin } from "../rdkafka/index.ts";
import type { LinkedTopic } from "./linked-topic.ts";

/** What `klink run` gives: how often, what link.topics selects, and who else keeps a list of linked topics. */
export interface NewTopicsSettings {
  intervalMs: number;
  /** The topics link.topics selects among the source's `existing` ones, with their settings (topics promoted before are left out). */
  select: (existing: string[]) => LinkedTopic[];
  /** Topics just linked: the lifecycle and ACL sync add them to their lists. */
  linked: (names: string[]) => void;
}

export interface NewTopicsContext extends NewTopicsSettings {
  sourceAdmin: Admin;
  /** The run's linked topics; a topic linked here is added (the Link and ConfigSync read this list). */
  topics: LinkedTopic[];
  /** Creates `t` on the target if missing, starts its partitions and assigns them; throws what stopped it. */
  link: (t: LinkedTopic) => Promise<void>;
  log: (line: string) => void;
}

/** As many as the Link starts at once at start. */
const LINKED_AT_ONCE = 16;

export class NewTopics {
  private readonly rounds: BackgroundRound;
  /** Found by the last look, linked by the next tick. */
  private found: LinkedTopic[] = [];
  /** Why a topic could not be linked: said once per reason (it is tried at every check). */
  private readonly refused = new Map<string, string>();

  constructor(private readonly c: NewTopicsContext) {
    this.rounds = new BackgroundRound(c.intervalMs, () => this.look());
  }

  /** Called by the run loop: links what the last look found, then starts a look when one is due. */
  async tick(): Promise<void> {
    const found = this.found.splice(0);
    const linked = await inParallel(found, LINKED_AT_ONCE, (t) => this.linkOne(t));
    const names = found.filter((_, i) => linked[i]).map((t) => t.name);
    if (names.length) this.c.linked(names);
    this.rounds.tick();
  }

  /** The look's admin calls have ended (before the admin client closes). */
  idle(): Promise<void> {
    return this.rounds.idle();
  }

  private async look(): Promise<void> {
    // listTopics blocks the JS thread: it is asked only once the source answered.
    await this.c.sourceAdmin.describeCluster();
    const existing = this.c.sourceAdmin.listTopics(5_000).map((t) => t.name);
    const linked = new Set(this.c.topics.map((t) => t.name));
    this.found = this.c.select(existing.filter((name) => !linked.has(name)));
  }

  private async linkOne(t: LinkedTopic): Promise<boolean> {
    try {
      await this.c.link(t);
    } catch (err) {
      const why = (err as Error).message;
      if (this.refused.get(t.name) !== why) this.c.log(`${t.name}: created on the source after start; not linked: ${why}; trying again in ${this.c.intervalMs / 1000} s`);
      this.refused.set(t.name, why);
      return false;
    }
    this.refused.delete(t.name);
    this.c.topics.push(t);
    this.c.log(`${t.name}: created on the source after start; linked`);
    return true;
  }
}
