/**
 * Kafka messages described as data, the way Kafka's own JSON message definitions describe them
 * (a field's name, type, the versions it exists in, the versions it may be null in), and the one
 * encoder and decoder derived from such a description. Flexible versions (KIP-482) switch to
 * compact strings, bytes and arrays and end every struct with a tagged-field section.
 *
 * Decoded messages are plain objects keyed by the fields' camelCase names; a field that does not
 * exist in the decoded version is absent. Byte fields are views into the response's buffer.
 */
import { Reader, Writer } from "./wire.ts";

export type Scalar = "int8" | "int16" | "int32" | "int64" | "bool" | "string" | "bytes";

export interface Field {
  name: string;
  /** A scalar, an array of scalars, or an array of structs (its fields). */
  type: Scalar | "[]string" | "[]int32" | Field[];
  /** Inclusive version range in which the field exists. */
  versions: [number, number];
  /** Versions in which the field may be null (strings, bytes, arrays). */
  nullable?: [number, number];
}

/** "5+" or "0-3", as Kafka's message definitions write version ranges. */
function range(spec: string): [number, number] {
  if (spec.endsWith("+")) return [Number(spec.slice(0, -1)), Infinity];
  const [lo, hi] = spec.split("-").map(Number);
  return [lo!, hi ?? lo!];
}

/** A field: `field("groupInstanceId", "string", "5+", "5+")`. */
export function field(name: string, type: Field["type"], versions: string, nullableVersions?: string): Field {
  return { name, type, versions: range(versions), ...(nullableVersions ? { nullable: range(nullableVersions) } : {}) };
}

const within = (v: number, [lo, hi]: [number, number]) => v >= lo && v <= hi;

export function encode(fields: Field[], version: number, flexible: boolean, value: Record<string, unknown>, w: Writer): void {
  for (const f of fields) {
    if (!within(version, f.versions)) continue;
    let v = value[f.name];
    const nullable = f.nullable !== undefined && within(version, f.nullable);
    if (v === undefined && nullable) v = null;
    if (v === undefined || (v === null && !nullable)) {
      throw new Error(`cannot encode: field ${f.name} is required in version ${version}`);
    }
    if (Array.isArray(f.type)) {
      const items = v as Record<string, unknown>[] | null;
      arrayLength(w, flexible, items === null ? -1 : items.length);
      for (const item of items ?? []) encode(f.type, version, flexible, item, w);
    } else if (f.type === "[]string" || f.type === "[]int32") {
      const items = v as Array<string | number> | null;
      arrayLength(w, flexible, items === null ? -1 : items.length);
      for (const item of items ?? []) {
        if (f.type === "[]int32") w.int32(item as number);
        else if (flexible) w.compactString(item as string);
        else w.string(item as string);
      }
    } else {
      writeScalar(w, f.type, flexible, v);
    }
  }
  if (flexible) w.emptyTaggedFields();
}

export function decode(fields: Field[], version: number, flexible: boolean, r: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!within(version, f.versions)) continue;
    if (Array.isArray(f.type) || f.type === "[]string" || f.type === "[]int32") {
      const n = flexible ? r.uvarint() - 1 : r.int32();
      if (n < 0) {
        out[f.name] = null;
        continue;
      }
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) {
        if (Array.isArray(f.type)) items.push(decode(f.type, version, flexible, r));
        else if (f.type === "[]int32") items.push(r.int32());
        else items.push(flexible ? r.compactString() : r.string());
      }
      out[f.name] = items;
    } else {
      out[f.name] = readScalar(r, f.type, flexible);
    }
  }
  if (flexible) r.skipTaggedFields();
  return out;
}

function arrayLength(w: Writer, flexible: boolean, n: number): void {
  if (flexible) w.uvarint(n + 1);
  else w.int32(n);
}

function writeScalar(w: Writer, type: Scalar, flexible: boolean, v: unknown): void {
  switch (type) {
    case "int8":
      w.int8(v as number);
      break;
    case "int16":
      w.int16(v as number);
      break;
    case "int32":
      w.int32(v as number);
      break;
    case "int64":
      w.int64(v as number);
      break;
    case "bool":
      w.bool(v as boolean);
      break;
    case "string":
      if (flexible) w.compactString(v as string | null);
      else w.string(v as string | null);
      break;
    case "bytes":
      if (flexible) w.compactBytes(v as Uint8Array | null);
      else w.bytes(v as Uint8Array | null);
      break;
  }
}

function readScalar(r: Reader, type: Scalar, flexible: boolean): unknown {
  switch (type) {
    case "int8":
      return r.int8();
    case "int16":
      return r.int16();
    case "int32":
      return r.int32();
    case "int64":
      return r.int64();
    case "bool":
      return r.bool();
    case "string":
      return flexible ? r.compactString() : r.string();
    case "bytes":
      return flexible ? r.compactBytes() : r.bytes();
  }
}
