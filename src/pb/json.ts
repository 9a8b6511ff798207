// proto3 JSON mapping as etcd's /v3 gateway speaks it. Output: field names as written in the
// .proto, 64-bit integers as strings, bytes as standard base64, enums by name, default values
// omitted. Input: proto or lowerCamel names, 64-bit values as numbers or strings, enums by name
// or number, bytes in standard or URL-safe base64.

import type { ProtoSchema } from "./schema.ts";
import { type CompiledField, type CompiledMessage, isDefault } from "./codec.ts";

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

export class ProtoJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtoJsonError";
  }
}

const WIDE = new Set(["int64", "uint64", "fixed64", "sfixed64"]);

export interface JsonMapper {
  toJSON(m: CompiledMessage, obj: Obj): Obj;
  fromJSON(m: CompiledMessage, json: unknown): Obj;
}

export function makeJsonMapper(schema: ProtoSchema): JsonMapper {
  const enumNames: EnumNames = new Map();
  for (const [name, values] of Object.entries(schema.enums)) {
    enumNames.set(name, new Map(Object.entries(values).map(([k, v]) => [v, k])));
  }

  const toJSON = (m: CompiledMessage, obj: Obj): Obj => {
    const out: Obj = {};
    for (const f of m.fields) {
      const v = obj[f.prop];
      if (v === undefined || v === null) continue;
      const one = (x: Obj[string]) =>
        f.kind === "message" ? toJSON(f.msg!, x) : scalarToJSON(enumNames, f, x);
      if (f.repeated) {
        if (v.length > 0) out[f.name] = v.map(one);
      } else if (f.kind === "message" || f.oneof || !isDefault(f, v)) {
        out[f.name] = one(v);
      }
    }
    return out;
  };

  // Input accepts both spellings of a field name; the look-up table is built once per message.
  const byName = new Map<CompiledMessage, Map<string, CompiledField>>();
  const fieldsByName = (m: CompiledMessage) => {
    let map = byName.get(m);
    if (!map) {
      map = new Map();
      for (const f of m.fields) map.set(f.name, f).set(f.prop, f);
      byName.set(m, map);
    }
    return map;
  };

  const fromJSON = (m: CompiledMessage, json: unknown): Obj => {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new ProtoJsonError(`expected a JSON object for ${m.fullName}`);
    }
    const obj = m.create();
    const names = fieldsByName(m);
    const oneofSet = new Map<string, string>();
    for (const [key, v] of Object.entries(json)) {
      const f = names.get(key);
      if (!f) throw new ProtoJsonError(`unknown field "${key}" in ${m.fullName}`);
      if (v === null) continue; // null means "default"
      const one = (x: unknown) =>
        f.kind === "message" ? fromJSON(f.msg!, x) : scalarFromJSON(schema, m, f, x);
      if (f.repeated) {
        if (!Array.isArray(v)) {
          throw new ProtoJsonError(`field ${f.name} of ${m.fullName} must be an array`);
        }
        obj[f.prop] = v.map(one);
      } else {
        if (f.oneof) {
          const prior = oneofSet.get(f.oneof);
          if (prior !== undefined && prior !== f.name) {
            throw new ProtoJsonError(`oneof ${f.oneof} of ${m.fullName} is already set`);
          }
          oneofSet.set(f.oneof, f.name);
        }
        obj[f.prop] = one(v);
      }
    }
    return obj;
  };

  return { toJSON, fromJSON };
}

/** Enum value names by number, per enum type. */
type EnumNames = Map<string, Map<number, string>>;

function scalarToJSON(enumNames: EnumNames, f: CompiledField, v: Obj[string]): unknown {
  if (f.kind === "enum") return enumNames.get(f.ref!)!.get(v) ?? v;
  if (f.kind === "bytes") return (v as Uint8Array).toBase64();
  if (WIDE.has(f.kind)) return String(v);
  if ((f.kind === "double" || f.kind === "float") && !Number.isFinite(v)) {
    return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  }
  return v;
}

function scalarFromJSON(
  schema: ProtoSchema,
  m: CompiledMessage,
  f: CompiledField,
  v: unknown,
): unknown {
  const bad = (): never => {
    throw new ProtoJsonError(
      `invalid value ${JSON.stringify(v)} for field ${f.name} of ${m.fullName}`,
    );
  };
  switch (f.kind) {
    case "bool":
      return typeof v === "boolean" ? v : bad();
    case "string":
      return typeof v === "string" ? v : bad();
    case "bytes": {
      if (typeof v !== "string") bad();
      const s = v as string;
      const urlSafe = /[-_]/.test(s);
      try {
        return Uint8Array.fromBase64(s, { alphabet: urlSafe ? "base64url" : "base64" });
      } catch {
        return bad();
      }
    }
    case "enum": {
      if (typeof v === "string") {
        const n = schema.enums[f.ref!][v];
        return n !== undefined ? n : bad();
      }
      return typeof v === "number" && Number.isInteger(v) ? v : bad();
    }
    case "double":
    case "float":
      if (typeof v === "number") return v;
      if (v === "NaN") return NaN;
      if (v === "Infinity") return Infinity;
      if (v === "-Infinity") return -Infinity;
      if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) {
        return Number(v);
      }
      return bad();
  }
  return integerFromJSON(f, v, bad);
}

// Integers: JSON numbers, or strings holding a decimal integer, within the field's range.
// Identifiers (member, cluster, lease IDs) become bigints, as decoded protobuf has them.
function integerFromJSON(f: CompiledField, v: unknown, bad: () => never): unknown {
  let text: string;
  if (typeof v === "number" && Number.isInteger(v)) text = String(v);
  else if (typeof v === "string" && /^-?\d+$/.test(v)) text = v;
  else return bad();
  const unsigned = f.kind === "uint32" || f.kind === "uint64" || f.kind === "fixed32" ||
    f.kind === "fixed64";
  const wide = WIDE.has(f.kind);
  const n = BigInt(text);
  const bits = wide ? 64 : 32;
  const lo = unsigned ? 0n : -(1n << BigInt(bits - 1));
  const hi = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  if (n < lo || n > hi) bad();
  return f.id ? n : Number(n);
}
