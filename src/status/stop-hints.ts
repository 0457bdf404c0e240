/** What an operator does about a partition stopped for a known reason (`klink status`, /readyz). */

const HINTS: Array<[RegExp, string]> = [
  [/MSG_SIZE_TOO_LARGE|max\.message\.bytes|too large/i, "raise max.message.bytes on the target topic (kafka-configs --alter --entity-type topics --add-config max.message.bytes=...) to at least the source's, then `klink resume FILE TOPIC:PARTITION` (or restart klink): it goes on where it stopped"],
  [/TOPIC_AUTHORIZATION_FAILED|not authorized/i, "grant klink's principal the missing permission on that topic, then `klink resume FILE TOPIC:PARTITION` (or restart klink)"],
  [/no longer exists/i, "the source topic was deleted: recreate it, or drop it from link.topics"],
];

export function stopHint(error: string): string | null {
  return HINTS.find(([pattern]) => pattern.test(error))?.[1] ?? null;
}
