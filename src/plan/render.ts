/** `klink plan` for people: clusters, topics with one line per partition, groups, problems. */
import type { Plan, TopicPlan } from "./types.ts";
import { renderAcls } from "./acl-render.ts";

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;
const n = (x: number | null) => (x === null ? "-" : x.toLocaleString("en-US"));

export function renderPlan(plan: Plan, file: string): string {
  const out: string[] = [`klink plan ${file} (read-only: nothing was written to either cluster)`, ""];
  for (const role of ["source", "target"] as const) {
    const c = plan.clusters[role];
    out.push(`${role}  ${c.bootstrap}  cluster ${c.clusterId ?? "?"}, ${c.brokers} broker${c.brokers === 1 ? "" : "s"}${c.kafka ? `, ${c.kafka} (by its API versions)` : ""}`);
  }
  const toCreate = plan.topics.filter((t) => t.create).length;
  out.push("", `topics: ${plan.topics.length} to mirror${toCreate ? `, ${toCreate} to create on the target` : ""}`);
  for (const t of plan.topics) out.push("", ...renderTopic(t));
  out.push("", `groups: ${plan.groups.length} to hand off`);
  for (const g of plan.groups) {
    const topics = g.linkedTopics.length ? `offsets on ${g.linkedTopics.join(", ")}` : "no offsets on linked topics";
    const target = g.target ? `on the target: ${g.target.state}, ${g.target.members} member(s)` : "not on the target yet";
    out.push(`  ${g.group}  ${g.state}, ${g.protocol} protocol${g.assignor ? ` (${g.assignor})` : ""}, ${g.members} member(s), ${topics}; ${target}; handoff: ${g.handoff === "fence" ? "held on the target until its last source member leaves" : "drain, then switch"}`);
  }
  if (plan.groupOffsets.groups.length) out.push("", ...renderGroupOffsets(plan.groupOffsets));
  if (plan.acls) out.push("", ...renderAcls(plan.acls));
  const errors = plan.problems.filter((p) => p.severity === "error").length;
  const warnings = plan.problems.length - errors;
  out.push("", plan.problems.length ? `problems: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}` : "problems: none");
  for (const p of plan.problems) out.push(`  ${p.severity.padEnd(7)}  ${p.subject}: ${p.message}`);
  return out.join("\n");
}

function renderTopic(t: TopicPlan): string[] {
  const head = t.create
    ? `create on the target with ${plural(t.create.partitions, "partition")}, replication factor ${t.create.replicationFactor ?? "(broker default)"}` +
      (Object.keys(t.create.configs).length ? `, configs ${Object.entries(t.create.configs).map(([k, v]) => `${k}=${v}`).join(" ")}` : "")
    : `exists on the target with ${plural(t.target!.partitions, "partition")}${t.target!.linkedState ? `, linked (${t.target!.linkedState})` : ""}`;
  const lines = [`  ${t.topic}  ${plural(t.partitions, "partition")}; ${head}`];
  for (const [k, why] of Object.entries(t.create?.skipped ?? {})) lines.push(`    not copied: ${k} (${why})`);
  const drift = t.configDrift;
  const set = (v: string | null) => (v === null ? "not set" : v);
  for (const c of drift?.changes ?? []) {
    lines.push(`    config drift: ${c.name} ${set(c.source)} on the source, ${set(c.target)} on the target (${drift!.synced ? "klink run syncs it" : `${drift!.why}; not synced`})`);
  }
  const rows = [
    ["partition", "source start", "source end", "copy from", "target", "target start..end", "offsets", "why"],
    ...t.partitionPlans.map((p) => [
      String(p.partition),
      n(p.sourceLogStart),
      n(p.sourceLogEnd),
      n(p.startOffset),
      p.target,
      p.targetLogEnd === null ? "-" : `${n(p.targetLogStart)}..${n(p.targetLogEnd)}`,
      p.mode ?? "none",
      p.why,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) lines.push(`    ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")}`);
  return lines;
}

/** Groups klink does not hand off: the partitions where the target lacks the group's translated offset. */
function renderGroupOffsets(g: Plan["groupOffsets"]): string[] {
  const lines = [
    `group offsets: ${plural(g.groups.length, "group")} klink does not hand off ` +
      (g.synced ? "(link.groupOffsetSync: klink run copies their offsets while a group has no members on the target)" : "(klink offsets export-groups writes their offsets for kafka-consumer-groups.sh; or set link.groupOffsetSync)"),
  ];
  for (const x of g.groups) {
    lines.push(`  ${x.group}  ${x.why}; ${x.differ.length ? `${x.differ.length} of ${plural(x.partitions, "partition")} differ on the target` : `the target has its offsets on all ${plural(x.partitions, "partition")}`}`);
    for (const d of x.differ) {
      const resumes = d.targetOffset === null ? "not copied that far yet" : `target offset ${n(d.targetOffset)}`;
      lines.push(`    ${d.topic}[${d.partition}]  committed on the source ${n(d.sourceOffset)} = ${resumes}; committed on the target: ${d.onTarget === null ? "none" : n(d.onTarget)}`);
    }
  }
  return lines;
}
