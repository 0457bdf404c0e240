/**
 * storage/sqlite: migration state in one SQLite file (bun:sqlite) in WAL mode. Every `write`
 * is one transaction, synced before it resolves (synchronous=FULL by default), so state
 * survives kill -9 of klink and, with FULL, a power loss.
 *
 * Offset-map rows are keyed by a small integer per (topic, partition): millions of rows stay
 * compact, and `seek` is one index lookup either way.
 */
import { Database, SQLiteError } from "bun:sqlite";
import { existsSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import type { JsonSchema } from "../../src/config/schema.ts";
import { StateInUseError, type OffsetMapRow, type PluginContext, type Store, type StoreWrite, type TopicState, type GroupState, type PartitionState } from "../plugin.ts";
import { FileLock } from "./file-lock.ts";
import { stateFileError, writeProblem } from "./state-file-problems.ts";

export const name = "sqlite";
export const kind = "storage";

export interface SqliteOptions {
  path?: string;
  synchronous: "full" | "normal";
}

export const optionsSchema: JsonSchema = {
  description: "Migration state in an SQLite file (WAL mode): lifecycle states of topics and groups, offset maps. The default.",
  type: "object",
  additionalProperties: false,
  properties: {
    path: {
      description: "the state file, relative to migration.yaml (default: the YAML's name with .klink.db, beside it)",
      type: "string",
      minLength: 1,
      examples: ["./state/orders-migration.db"],
    },
    synchronous: {
      description: "`full` syncs every write to disk (survives power loss); `normal` only survives a crash of klink itself",
      type: "string",
      enum: ["full", "normal"],
      default: "full",
    },
  },
  examples: [{ path: "./migration.klink.db" }],
};

/** The state file for these options: `path`, or <yaml name>.klink.db beside the YAML. */
export function statePath(options: { path?: string }, context: Pick<PluginContext, "configFile" | "configDir">): string {
  if (options.path) return resolve(context.configDir, options.path);
  return resolve(context.configDir, `${basename(context.configFile, extname(context.configFile))}.klink.db`);
}

const APPLICATION_ID = 0x6b6c6e6b; // "klnk": marks the file as klink's
const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS topic_state (topic TEXT PRIMARY KEY, state TEXT NOT NULL, detail TEXT, updated_at INTEGER NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS group_state (group_id TEXT PRIMARY KEY, state TEXT NOT NULL, detail TEXT, updated_at INTEGER NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS partition (
    id INTEGER PRIMARY KEY, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    mode TEXT, since_offset INTEGER, detail TEXT, updated_at INTEGER,
    UNIQUE (topic, partition)) STRICT;
  CREATE TABLE IF NOT EXISTS offset_map (
    pid INTEGER NOT NULL, source_offset INTEGER NOT NULL, target_offset INTEGER NOT NULL, origin INTEGER NOT NULL,
    PRIMARY KEY (pid, source_offset)) STRICT, WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS offset_map_target ON offset_map (pid, target_offset);
`;

const ORIGIN = { source: 0, target: 1 } as const;
type MapRow = { topic: string; partition: number; source_offset: number; target_offset: number; origin: number };
const toRow = (r: MapRow): OffsetMapRow => ({
  topic: r.topic,
  partition: r.partition,
  sourceOffset: r.source_offset,
  targetOffset: r.target_offset,
  origin: r.origin === ORIGIN.target ? "target" : "source",
});
const isOffset = (o: number) => Number.isSafeInteger(o) && o >= 0;
const MAP_COLUMNS = "p.topic, p.partition, m.source_offset, m.target_offset, m.origin";

export function create(options: SqliteOptions, context: PluginContext): Store {
  const path = statePath(options, context);
  return new SqliteStore(path, options.synchronous ?? "full", context.readOnly);
}

export class SqliteStore implements Store {
  private readonly db: Database;
  private readonly readOnly: boolean;
  /** Held while open for writing: one writer per state file (read-only opens take none). */
  private lock: FileLock | null = null;

  /**
   * `readOnly`: open an existing file read-only; a missing file reads as empty state (nothing is created).
   * Otherwise takes the lock <file>.lock first, and throws StateInUseError if another process holds it.
   */
  constructor(
    readonly location: string,
    synchronous: "full" | "normal" = "full",
    readOnly = false,
  ) {
    this.readOnly = readOnly;
    if (readOnly && !existsSync(location)) {
      this.db = new Database(":memory:", { strict: true });
      this.db.run(SCHEMA);
      return;
    }
    if (!readOnly) {
      let lock: ReturnType<typeof FileLock.take>;
      try {
        lock = FileLock.take(`${location}.lock`);
      } catch (err) {
        throw stateFileError(err, location);
      }
      if (!(lock instanceof FileLock)) {
        throw new StateInUseError(
          `state file ${location} is in use by another klink run (${lock.heldBy || "holder unknown"}): ` +
            "one instance writes a link's state at a time; stop that one first, or use its status endpoint (klink status)",
        );
      }
      this.lock = lock;
    }
    try {
      this.db = this.openFile(location, synchronous, readOnly);
    } catch (err) {
      this.lock?.release();
      throw stateFileError(err, location);
    }
  }

  /** For `klink plan`, which opens the state read-only: why `klink run` could not write it, or null. */
  writeProblem(): string | null {
    return writeProblem(this.location);
  }

  private openFile(location: string, synchronous: "full" | "normal", readOnly: boolean): Database {
    const db = new Database(location, readOnly ? { readonly: true, strict: true } : { create: true, strict: true });
    db.run("PRAGMA busy_timeout = 5000");
    const appId = (db.query("PRAGMA application_id").get() as { application_id: number }).application_id;
    const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (appId !== 0 && appId !== APPLICATION_ID) throw new Error(`${location} is an SQLite file of another program, not klink state: choose another storage path`);
    if (version > SCHEMA_VERSION) throw new Error(`${location} was written by a newer klink (state version ${version}); use that klink`);
    if (readOnly) return db;
    db.run("PRAGMA journal_mode = WAL");
    db.run(`PRAGMA synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.transaction(() => {
      db.run(SCHEMA);
      db.run(`PRAGMA application_id = ${APPLICATION_ID}`);
      db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    })();
    return db;
  }

  async write(changes: StoreWrite[]): Promise<void> {
    if (this.readOnly) throw new Error(`state ${this.location} is open read-only`);
    try {
      this.apply(changes);
    } catch (err) {
      // Partitions this write added are gone with its rollback: their cached ids would point nowhere.
      this.ids.clear();
      throw stateFileError(err, this.location);
    }
  }

  /** All `changes` in one transaction (rolled back on any error). */
  private apply(changes: StoreWrite[]): void {
    const now = Date.now();
    this.db.transaction(() => {
      for (const c of changes) {
        if ("put" in c) {
          if (c.value === null) this.db.run("DELETE FROM kv WHERE key = ?", [c.put]);
          else this.db.run("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [c.put, c.value]);
        } else if ("topic" in c) {
          this.db.run(
            "INSERT INTO topic_state VALUES (?, ?, ?, ?) ON CONFLICT (topic) DO UPDATE SET state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at",
            [c.topic, c.state, c.detail ?? null, now],
          );
        } else if ("group" in c) {
          this.db.run(
            "INSERT INTO group_state VALUES (?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at",
            [c.group, c.state, c.detail ?? null, now],
          );
        } else if ("partition" in c) {
          const pid = this.partitionId(c.partition.topic, c.partition.partition);
          this.db.run("UPDATE partition SET mode = ?, since_offset = ?, detail = ?, updated_at = ? WHERE id = ?", [c.mode, c.sinceOffset, c.detail ?? null, now, pid]);
        } else {
          const insert = this.db.query("INSERT INTO offset_map VALUES (?, ?, ?, ?)");
          for (const r of c.offsets) {
            if (!isOffset(r.sourceOffset) || !isOffset(r.targetOffset)) throw this.rowError(r, isOffset(r.sourceOffset) ? "target" : "source", "is not an offset");
            try {
              insert.run(this.partitionId(r.topic, r.partition), r.sourceOffset, r.targetOffset, ORIGIN[r.origin]);
            } catch (err) {
              throw this.explainRow(err, r);
            }
          }
        }
      }
    })();
  }

  /** A row whose source or target offset already has one: says which, where (as storage/kafka does). */
  private explainRow(err: unknown, r: OffsetMapRow): unknown {
    if (!(err instanceof SQLiteError) || (err.code !== "SQLITE_CONSTRAINT_PRIMARYKEY" && err.code !== "SQLITE_CONSTRAINT_UNIQUE")) return err;
    return this.rowError(r, err.message.includes("target_offset") ? "target" : "source", `already has a row in ${this.location}`);
  }

  private rowError(r: OffsetMapRow, side: "source" | "target", problem: string): Error {
    const offset = side === "source" ? r.sourceOffset : r.targetOffset;
    return new Error(`offset map of ${r.topic}[${r.partition}]: ${side} offset ${offset} ${problem}; nothing of this write was stored`);
  }

  /** Partition ids by topic and partition, as stored (cleared when a write rolls back). */
  private readonly ids = new Map<string, number>();
  private partitionId(topic: string, partition: number): number {
    const key = `${topic}\0${partition}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      this.db.run("INSERT INTO partition (topic, partition) VALUES (?, ?) ON CONFLICT DO NOTHING", [topic, partition]);
      id = (this.db.query("SELECT id FROM partition WHERE topic = ? AND partition = ?").get(topic, partition) as { id: number }).id;
      this.ids.set(key, id);
    }
    return id;
  }

  /** The partition's id, without creating it (read paths). */
  private existingId(topic: string, partition: number): number | undefined {
    const cached = this.ids.get(`${topic}\0${partition}`);
    if (cached !== undefined) return cached;
    const row = this.db.query("SELECT id FROM partition WHERE topic = ? AND partition = ?").get(topic, partition) as { id: number } | null;
    return row?.id;
  }

  async get(key: string): Promise<string | null> {
    const row = this.db.query("SELECT value FROM kv WHERE key = ?").get(key) as { value: string } | null;
    return row?.value ?? null;
  }

  async topics(): Promise<TopicState[]> {
    return this.db.query("SELECT topic, state, detail, updated_at AS updatedAt FROM topic_state ORDER BY topic").all() as TopicState[];
  }

  async groups(): Promise<GroupState[]> {
    return this.db.query("SELECT group_id AS 'group', state, detail, updated_at AS updatedAt FROM group_state ORDER BY group_id").all() as GroupState[];
  }

  async partitions(topic?: string): Promise<PartitionState[]> {
    const sql = `SELECT topic, partition, mode, since_offset AS sinceOffset, detail, updated_at AS updatedAt FROM partition
                 WHERE mode IS NOT NULL ${topic === undefined ? "" : "AND topic = ?"} ORDER BY topic, partition`;
    return this.db.query(sql).all(...(topic === undefined ? [] : [topic])) as PartitionState[];
  }

  async seek(from: "source" | "target", topic: string, partition: number, offset: number): Promise<OffsetMapRow | null> {
    const col = from === "source" ? "source_offset" : "target_offset";
    const other = from === "source" ? "target_offset" : "source_offset";
    const pid = this.existingId(topic, partition);
    if (pid === undefined) return null;
    // Two steps, each one index range: the lowest other-side offset among rows at or after
    // `offset` (the rows after a group's position are few), then that row.
    const min = this.db.query(`SELECT MIN(${other}) AS o FROM offset_map WHERE pid = ? AND ${col} >= ?`).get(pid, offset) as { o: number | null };
    if (min.o === null) return null;
    const row = this.db
      .query(`SELECT ${MAP_COLUMNS} FROM offset_map m JOIN partition p ON p.id = m.pid WHERE m.pid = ? AND m.${other} = ?`)
      .get(pid, min.o) as MapRow | null;
    return row && toRow(row);
  }

  async last(side: "source" | "target", topic: string, partition: number, origin?: OffsetMapRow["origin"]): Promise<OffsetMapRow | null> {
    const col = side === "source" ? "source_offset" : "target_offset";
    const row = this.db
      .query(`SELECT ${MAP_COLUMNS} FROM offset_map m JOIN partition p ON p.id = m.pid
              WHERE p.topic = ? AND p.partition = ? ${origin ? "AND m.origin = ?" : ""} ORDER BY m.${col} DESC LIMIT 1`)
      .get(...([topic, partition, ...(origin ? [ORIGIN[origin]] : [])] as [string, number])) as MapRow | null;
    return row && toRow(row);
  }

  async offsetMap(topic: string, partition: number, from: number, limit: number, side: "source" | "target" = "source"): Promise<OffsetMapRow[]> {
    const col = side === "source" ? "source_offset" : "target_offset";
    const rows = this.db
      .query(`SELECT ${MAP_COLUMNS} FROM offset_map m JOIN partition p ON p.id = m.pid
              WHERE p.topic = ? AND p.partition = ? AND m.${col} >= ? ORDER BY m.${col} LIMIT ?`)
      .all(topic, partition, from, limit) as MapRow[];
    return rows.map(toRow);
  }

  async close(): Promise<void> {
    this.db.close();
    this.lock?.release();
    this.lock = null;
  }
}
