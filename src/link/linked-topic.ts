/** A source topic the link copies, with its settings from migration.yaml (session.ts). */
import type { OffsetsSetting, StartPosition, TopicSettings } from "../config/types.ts";
import type { CreateSettings } from "./provision.ts";

export interface LinkedTopic {
  name: string;
  start: StartPosition;
  /** exact: offsets identical or the partition stops; translate: an offset map; auto: exact where possible. */
  offsets: OffsetsSetting;
  /** Longest prefix of filler offsets written to align a partition's start. */
  prefixFillLimit: number;
  /** How a missing target topic is created. */
  create: CreateSettings;
  /** Live topic config sync (config-sync.ts). */
  configSync: TopicSettings["configSync"];
}
