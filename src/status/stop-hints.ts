/** What an operator does about a partition stopped for a known reason (`klink status`, /readyz). */

const HINTS: Array<[RegExp, string]> = [
  [/MSG_SIZE_TOO_LARGE|max\.message\.bytes|too large/i, "raise max.message.bytes on the target topic (kafka-configs --alter --entity-type topics --add-config max.message.bytes=...) to at least the source's, then `klink resume` the partition"],
  [/TOPIC_AUTHORIZATION_FAILED|CLUSTER_AUTHORIZATION_FAILED|not authorized/i, "grant klink's principal the ACLs in docs (read on the source, write on the target), then `klink resume` the partition"],
  [/no longer exists|UNKNOWN_TOPIC/i, "the source topic was deleted: recreate it or drop it from link.topics"],
  [/exact offsets are impossible|offsets: exact/i, "set offsets: auto for this topic to copy it in translate mode, then restart"],
  [/recreated or truncated/i, "the target partition lost records: delete the target topic and klink's state for it, then copy again"],
];

export function stopHint(error: string): string | null {
  return HINTS.find(([pattern]) => pattern.test(error))?.[1] ?? null;
}
