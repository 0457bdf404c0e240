/**
 * The Prometheus text exposition format (version 0.0.4): families of samples, each family with
 * one `# HELP` and one `# TYPE` line however often it is added, label values escaped.
 */

export type MetricType = "counter" | "gauge" | "histogram";
export type Labels = Record<string, string | number>;

export interface Sample {
  labels?: Labels;
  value: number;
  /** Appended to the family's name: `_bucket`, `_sum`, `_count` of a histogram. */
  suffix?: string;
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export class Exposition {
  private readonly families = new Map<string, { type: MetricType; help: string; samples: Sample[] }>();

  /** Adds samples to family `name` (created on first use; a family without samples is not written). */
  add(name: string, type: MetricType, help: string, samples: Sample[]): this {
    const family = this.families.get(name);
    if (family && family.type !== type) throw new Error(`metric ${name} is a ${family.type}, not a ${type}`);
    if (family) family.samples.push(...samples);
    else this.families.set(name, { type, help, samples: [...samples] });
    return this;
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      if (f.samples.length === 0) continue;
      lines.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.samples) lines.push(`${name}${s.suffix ?? ""}${labelText(s.labels)} ${valueText(s.value)}`);
    }
    return lines.length ? `${lines.join("\n")}\n` : "";
  }
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return "";
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** A histogram with fixed buckets (upper bounds, in the observed unit), cheap to observe. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const i = this.bounds.findIndex((b) => value <= b);
    if (i >= 0) this.counts[i]!++;
  }

  /** `_bucket` (cumulative, ending with `le="+Inf"`), `_sum` and `_count` samples. */
  samples(labels: Labels = {}): Sample[] {
    let cumulative = 0;
    const buckets = this.bounds.map((b, i) => ((cumulative += this.counts[i]!), { suffix: "_bucket", labels: { ...labels, le: String(b) }, value: cumulative }));
    return [
      ...buckets,
      { suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: this.count },
      { suffix: "_sum", labels, value: this.sum },
      { suffix: "_count", labels, value: this.count },
    ];
  }
}
