/**
 * JSON Schema validation (ajv, draft 2020-12) with messages for operators: each ajv error
 * becomes an issue at the path of the offending value, saying what was expected and, for
 * near misses, what was probably meant. Defaults from the schema are filled into the data.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { error, type Issue, type Path } from "./issues.ts";
import type { JsonSchema } from "./schema.ts";
import { didYouMean } from "./suggest.ts";

const ajv = new Ajv2020({ allErrors: true, verbose: true, useDefaults: true, allowUnionTypes: true, strict: true });
ajv.addFormat("regex", (s: string) => regexError(s) === null);
ajv.addFormat("date-time", (s: string) => isDateTime(s));

const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/** Compiles a schema (cached); throws with ajv's message when the schema itself is invalid. */
export function compileSchema(schema: JsonSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/**
 * Validates `data` (filling in defaults) and returns one issue per problem. `base` is the path
 * of `data` in the whole file; `label` prefixes each message (a plugin's name).
 */
export function schemaIssues(schema: JsonSchema, data: unknown, base: Path = [], label = ""): Issue[] {
  const validate = compileSchema(schema);
  if (validate(data)) return [];
  return operatorErrors(validate.errors ?? []).map((e) => {
    const issue = describe(e, data);
    return { ...issue, keyword: e.keyword, path: [...base, ...issue.path], message: label + issue.message };
  });
}

/** The JS RegExp error for `source`, or null when it compiles. */
export function regexError(source: string): string | null {
  try {
    new RegExp(source);
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: (\/.*\/[a-z]*: )?/s, "");
  }
}

/** ISO-8601 date and time with seconds and a zone (Z or ±hh:mm), as Date.parse reads it. */
export function isDateTime(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/.test(s) && !Number.isNaN(Date.parse(s));
}

// --- from ajv errors to issues

type AjvError = ErrorObject & { alternatives?: string[] };

/**
 * Keeps the errors an operator needs: for a failed oneOf whose branches have distinct types, only
 * the errors of the branch matching the value's type (or one "expected X or Y" when none does).
 */
function operatorErrors(errors: ErrorObject[]): AjvError[] {
  let out: AjvError[] = [...errors];
  for (const one of errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf")) {
    const branches = (one.schema ?? []) as JsonSchema[];
    const prefix = `${one.schemaPath}/`;
    const inBranch = (e: ErrorObject) => e.schemaPath.startsWith(prefix) && e.instancePath.startsWith(one.instancePath);
    const type = jsonType(one.data);
    const matching = branches.map((b, i) => [b, i] as const).filter(([b]) => branchTypes(b).some((t) => t === type || (t === "number" && type === "integer")));
    if (matching.length === 1) {
      const [, index] = matching[0]!;
      const alternatives = branches.flatMap(alternativeNames);
      out = out
        .filter((e) => e !== one && (!inBranch(e) || e.schemaPath.startsWith(`${prefix}${index}/`)))
        .map((e) => (e.keyword === "enum" && e.instancePath === one.instancePath ? { ...e, alternatives } : e));
    } else {
      out = out.filter((e) => !inBranch(e)).map((e) => (e === one ? { ...e, alternatives: branches.flatMap(alternativeNames) } : e));
    }
  }
  return out;
}

function branchTypes(schema: JsonSchema): string[] {
  if (typeof schema.type === "string") return [schema.type];
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (Array.isArray(schema.enum)) return schema.enum.map(jsonType);
  return [];
}

/** How a oneOf branch is named in "expected ..." messages. */
function alternativeNames(schema: JsonSchema): string[] {
  if (Array.isArray(schema.enum)) return schema.enum.map(String);
  if (schema.type === "object" && Array.isArray(schema.required) && schema.required.length) return [`{${schema.required.join(", ")}: ...}`];
  return branchTypes(schema).map(typeName);
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeName(t: string): string {
  return { string: "a string", integer: "an integer", number: "a number", boolean: "a boolean", object: "a mapping", array: "a list", null: "nothing" }[t] ?? t;
}

/** A value as a message shows it. */
export function shown(v: unknown): string {
  if (typeof v === "string") return `'${v}'`;
  if (v === null || v === undefined) return "nothing (an empty value)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/** The path of an instancePath ("/link/topics/2"), with array indexes as numbers. */
function toPath(pointer: string, data: unknown): Path {
  const path: Array<string | number> = [];
  let node = data;
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const index = Array.isArray(node) ? Number(part) : NaN;
    path.push(Number.isInteger(index) ? index : part);
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
  }
  return path;
}

function describe(e: AjvError, root: unknown): Issue {
  const path = toPath(e.instancePath, root);
  const p = e.params as Record<string, any>;
  const schema = (e.parentSchema ?? {}) as JsonSchema;
  const value = e.data;
  switch (e.keyword) {
    case "additionalProperties": {
      const known = Object.keys((schema.properties as object) ?? {});
      const hint = known.length ? didYouMean(p.additionalProperty, known) || `; expected one of ${known.join(", ")}` : "; there are none here";
      return error([...path, p.additionalProperty], `unknown key '${p.additionalProperty}'${hint}`, "key");
    }
    case "required":
      return error(path, `missing required key '${p.missingProperty}'`, "key");
    case "dependentRequired":
      return error(path, `'${p.property}' needs '${p.missingProperty}' too`, "key");
    case "type":
      return error(path, `expected ${orList(String(p.type).split(",").map(typeName))}, got ${shown(value)}`);
    case "enum": {
      const allowed: string[] = e.alternatives ?? (p.allowedValues as unknown[]).map(String);
      const hint = typeof value === "string" ? didYouMean(value, (p.allowedValues as unknown[]).map(String)) : "";
      return error(path, `${shown(value)} is not one of ${allowed.join(", ")}${hint}`);
    }
    case "const":
      return error(path, `must be ${shown(p.allowedValue)}, got ${shown(value)}`);
    case "oneOf":
    case "anyOf":
      return error(path, e.alternatives ? `expected ${orList(e.alternatives)}, got ${shown(value)}` : `matches none of the allowed forms`);
    case "pattern":
      return error(path, schema.title ? `expected ${schema.title}, got ${shown(value)}` : `${shown(value)} does not match ${p.pattern}`);
    case "format":
      if (p.format === "regex") return error(path, `invalid regular expression ${shown(value)}: ${regexError(String(value))}`);
      if (p.format === "date-time") return error(path, `${shown(value)} is not an ISO-8601 date-time such as 2024-05-01T00:00:00Z`);
      return error(path, `${shown(value)} is not a valid ${p.format}`);
    case "minimum":
    case "exclusiveMinimum":
      return error(path, `must be at least ${p.limit}${e.keyword === "exclusiveMinimum" ? " (exclusive)" : ""}, got ${shown(value)}`);
    case "maximum":
    case "exclusiveMaximum":
      return error(path, `must be at most ${p.limit}, got ${shown(value)}`);
    case "minLength":
      return error(path, p.limit === 1 ? "must not be empty" : `must be at least ${p.limit} characters long`);
    case "maxLength":
      return error(path, `must be at most ${p.limit} characters long`);
    case "minItems":
      return error(path, `must list at least ${p.limit} item${p.limit === 1 ? "" : "s"}`);
    case "maxItems":
      return error(path, `must list at most ${p.limit} items`);
    case "uniqueItems":
      return error(path, `items ${p.j} and ${p.i} are the same`);
    default:
      return error(path, e.message ?? e.keyword);
  }
}
