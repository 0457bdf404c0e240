/**
 * Topics a cluster interrupted while klink linked them at start (it did not answer in time: a
 * broker still creating thousands of partitions, a leader moving). Only that topic waits: it is
 * tried again after RETRY_STOPPED_MS (Link.retryInterrupted), as an interrupted partition is,
 * instead of ending the run; the other topics copy meanwhile.
 *
 * At start, UNKNOWN_TOPIC_OR_PART interrupts too: the topic was listed moments ago, and a broker
 * that has just restarted, or has not yet learned of a topic klink just created on the target,
 * answers so for a while (a source broker killed and restarted under `klink run`'s start,
 * test/link/failover.test.ts, ended the run with it). A topic deleted meanwhile is tried again
 * every RETRY_STOPPED_MS, saying so each time.
 */
import { ErrorCode, KafkaError } from "../rdkafka/index.ts";
import { isWaitTooLong, RETRY_STOPPED_MS } from "./interrupted.ts";

const notKnownYet = (err: Error) => err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PART;

export class InterruptedTopics {
  /** topic → when it is tried again */
  private readonly waiting = new Map<string, number>();

  constructor(private readonly log: (line: string) => void) {}

  /** Runs `link`; a wait-too-long error sets the topic aside (nothing to assign) instead of throwing. */
  async start<T>(topic: string, link: () => Promise<T[]>): Promise<T[]> {
    try {
      return await link();
    } catch (err) {
      if (!isWaitTooLong(err as Error) && !notKnownYet(err as Error)) throw err;
      this.waiting.set(topic, performance.now() + RETRY_STOPPED_MS);
      this.log(`${topic}: interrupted while starting: ${(err as Error).message}; trying again in ${RETRY_STOPPED_MS / 1000} s`);
      return [];
    }
  }

  has(topic: string): boolean {
    return this.waiting.has(topic);
  }

  get size(): number {
    return this.waiting.size;
  }

  /** The topics whose time has come; they are no longer waiting. */
  due(now: number): string[] {
    const due = [...this.waiting].filter(([, at]) => at <= now).map(([topic]) => topic);
    for (const topic of due) this.waiting.delete(topic);
    return due;
  }
}
