/**
 * What is wrong with a migration.yaml, where: every problem is an issue with the path of the
 * value it is about (`["link", "topics", 2]`), placed at a line and column of the file, and
 * printed as `file:line:column: link.topics[2]: message`.
 */
import { UserError } from "../errors.ts";

export type Path = ReadonlyArray<string | number>;

export interface Issue {
  severity: "error" | "warning";
  path: Path;
  message: string;
  /** Point at the key of `path` (unknown or duplicate keys) rather than at its value. */
  at?: "key" | "value";
  /** The JSON Schema keyword that failed ("type", "enum", ...), for schema issues. */
  keyword?: string;
  /** 1-based; filled in from `path` when the file is known. */
  line?: number;
  column?: number;
}

export const error = (path: Path, message: string, at: Issue["at"] = "value"): Issue => ({ severity: "error", path, message, at });
export const warning = (path: Path, message: string, at: Issue["at"] = "value"): Issue => ({ severity: "warning", path, message, at });

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `link.topics[2].start`, `clusters.source.librdkafka["socket.timeout.ms"]`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (IDENTIFIER.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

export function formatIssue(file: string, issue: Issue): string {
  const where = issue.line ? `${file}:${issue.line}:${issue.column}` : file;
  const path = issue.path.length ? `${formatPath(issue.path)}: ` : "";
  const label = issue.severity === "warning" ? "warning: " : "";
  // one line per issue, whatever the message holds (librdkafka's end with a newline)
  return `${where}: ${label}${path}${issue.message.trim().replace(/\s*\n\s*/g, " ")}`;
}

/** Issues by position, errors and warnings mixed; duplicates (same place, same text) once. */
export function sortIssues(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues
    .filter((i) => {
      const key = `${i.line}:${i.column}:${formatPath(i.path)}:${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** A migration.yaml with errors. `lines` are the formatted issues, secrets already redacted. */
export class ConfigError extends UserError {
  override name = "ConfigError";
  constructor(
    readonly file: string,
    readonly lines: string[],
    readonly errorCount: number,
  ) {
    super(lines.join("\n"));
  }

  /** "3 errors in migration.yaml". */
  get summary(): string {
    return `${this.errorCount} error${this.errorCount === 1 ? "" : "s"} in ${this.file}`;
  }
}
