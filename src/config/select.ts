/** Which topics and groups a migration covers, and the settings that apply to one topic. */
import type { LinkConfig, Selection, TopicSettings } from "./types.ts";

/** A selection from the YAML's list or {names, regex, exclude} form. Patterns match whole names. */
export function toSelection(raw: unknown): Selection {
  if (raw === undefined || raw === null) return { names: [], patterns: [], exclude: [] };
  if (Array.isArray(raw)) return { names: raw.map(String), patterns: [], exclude: [] };
  const r = raw as { names?: string[]; regex?: string[]; exclude?: string[] };
  return { names: r.names ?? [], patterns: (r.regex ?? []).map(wholeName), exclude: (r.exclude ?? []).map(wholeName) };
}

export function wholeName(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** The pattern as written in the YAML, without the anchors klink adds. */
export function patternText(r: RegExp): string {
  return r.source.replace(/^\^\(\?:/, "").replace(/\)\$$/, "");
}

export function selects(selection: Selection, name: string): boolean {
  if (selection.exclude.some((r) => r.test(name))) return false;
  return selection.names.includes(name) || selection.patterns.some((r) => r.test(name));
}

/** The selected names among `existing`, plus listed names that do not exist (callers report those). */
export function select(selection: Selection, existing: Iterable<string>): { selected: string[]; missing: string[] } {
  const all = new Set(existing);
  const selected = [...all].filter((n) => selects(selection, n)).sort();
  const missing = selection.names.filter((n) => !all.has(n) && selects(selection, n));
  return { selected, missing };
}

export function settingsFor(link: LinkConfig, topic: string): TopicSettings {
  return link.overrides[topic] ?? link.defaults;
}
