/** What the nemesis found wrong, and how it prints it. */

export interface Violation {
  /** what kind of breach: "missing on target", "log start differs", "never caught up"... (the report groups by it) */
  kind: string;
  /** where: topic[partition] and offset, or the process */
  where: string;
  /** what each cluster holds there, or the process's last output */
  detail: string;
}

/** Grouped by kind: a count, then the first `examples` of each. */
export function formatViolations(violations: Violation[], examples = 5): string[] {
  const byKind = new Map<string, Violation[]>();
  for (const v of violations) {
    const list = byKind.get(v.kind);
    if (list) list.push(v);
    else byKind.set(v.kind, [v]);
  }
  const out: string[] = [];
  for (const [kind, list] of byKind) {
    out.push(`VIOLATION ${kind}: ${list.length}`);
    for (const v of list.slice(0, examples)) out.push(`  ${v.where}: ${v.detail.split("\n").join("\n    ")}`);
    if (list.length > examples) out.push(`  ... and ${list.length - examples} more`);
  }
  return out;
}

export function countByKind(violations: Violation[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of violations) m.set(v.kind, (m.get(v.kind) ?? 0) + 1);
  return m;
}

/** Not klink's fault: the nemesis could not run the seed as planned (a workload's set-up, a broker that would not come back). */
export const isNemesisProblem = (v: Violation) => v.kind.startsWith("setup:") || v.kind === "nemesis error";
