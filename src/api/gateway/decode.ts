// Request bodies to decoded messages with the leniency and the error wording of etcd 3.4's
// gateway (grpc-gateway's JSONPb over gogo's jsonpb): unknown fields are ignored, 64-bit
// integers come as numbers or strings, enums by name or number, bytes in standard base64;
// mistakes are reported as Go's encoding/json reports them. The checked value is then handed
// to the proto JSON mapping in a form it accepts.

import {
  type FieldSchema,
  fromJSON,
  type MessageName,
  type MessageTypes,
  schema,
} from "../../pb/mod.ts";
import {
  GoJsonNumber,
  GoJsonSyntaxError,
  jsonTypeName,
  type JsonValue,
  parseJsonText,
} from "./json_scan.ts";

/** A body that does not decode; `message` is what etcd's gateway answers. */
export class GatewayDecodeError extends Error {}

const fail = (message: string): never => {
  throw new GatewayDecodeError(message);
};

const typeError = (v: JsonValue, goType: string): never =>
  fail(`json: cannot unmarshal ${jsonTypeName(v)} into Go value of type ${goType}`);

/** The Go type name gogo generates for a proto enum: package.Outer_Inner. */
function goEnumName(ref: string): string {
  const [pkg, ...rest] = ref.split(".");
  return `${pkg}.${rest.join("_")}`;
}

const INT_RANGE: Record<string, [bigint, bigint]> = {
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
  int32: [-(1n << 31n), (1n << 31n) - 1n],
  uint32: [0n, (1n << 32n) - 1n],
};

// gogo's jsonpb strips the quotes of a quoted number and lets encoding/json read the rest.
function integer(v: JsonValue, goType: string, bits = goType): string {
  let n = v;
  if (typeof v === "string") {
    try {
      n = parseJsonText(v);
    } catch (err) {
      if (err instanceof GoJsonSyntaxError) fail(err.message);
      throw err;
    }
  }
  if (!(n instanceof GoJsonNumber)) return typeError(n, goType);
  const [lo, hi] = INT_RANGE[bits];
  if (!/^-?\d+$/.test(n.raw) || BigInt(n.raw) < lo || BigInt(n.raw) > hi) {
    fail(`json: cannot unmarshal number ${n.raw} into Go value of type ${goType}`);
  }
  return n.raw;
}

/** Standard base64 with its padding and no line breaks: what clients send. */
const PLAIN_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's base64.StdEncoding.DecodeString: line breaks skipped, padding required. */
export function goBase64(s: string): Uint8Array {
  // The common case in one native step; the loop is for line breaks and Go's error offsets
  // (character by character, it cost a gateway put of 1 KiB a fifth of its time).
  if (PLAIN_BASE64.test(s)) return Uint8Array.fromBase64(s);
  const corrupt = (at: number): never => fail(`illegal base64 data at input byte ${at}`);
  const alphabet = /[A-Za-z0-9+/]/;
  const clean: string[] = [];
  let si = 0;
  const isBreak = (c: string) => c === "\n" || c === "\r";
  while (si < s.length) {
    let j = 0;
    const quantum: string[] = [];
    while (j < 4) {
      if (si === s.length) {
        if (j === 0) break;
        corrupt(si - j);
      }
      const c = s[si++];
      if (alphabet.test(c)) {
        quantum.push(c);
        j++;
        continue;
      }
      if (isBreak(c)) continue;
      if (c !== "=") corrupt(si - 1);
      if (j < 2) corrupt(si - 1);
      if (j === 2) {
        while (si < s.length && isBreak(s[si])) si++;
        if (si === s.length) corrupt(s.length);
        if (s[si] !== "=") corrupt(si - 1);
        si++;
      }
      while (si < s.length && isBreak(s[si])) si++;
      if (si < s.length) corrupt(si);
      j = 4;
    }
    clean.push(...quantum);
  }
  const text = clean.join("");
  const padded = text + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.fromBase64(padded);
}

function scalar(f: FieldSchema, v: JsonValue): unknown {
  switch (f.kind) {
    case "bytes":
      return typeof v === "string" ? goBase64(v).toBase64() : typeError(v, "[]uint8");
    case "string":
      return typeof v === "string" ? v : typeError(v, "string");
    case "bool":
      return typeof v === "boolean" ? v : typeError(v, "bool");
    case "enum": {
      const goName = goEnumName(f.ref!);
      if (typeof v === "string") {
        const n = schema.enums[f.ref!][v];
        return n !== undefined ? n : fail(`unknown value ${JSON.stringify(v)} for enum ${goName}`);
      }
      return Number(integer(v instanceof GoJsonNumber ? v : typeError(v, goName), goName, "int32"));
    }
    case "double":
    case "float":
      if (v instanceof GoJsonNumber) return Number(v.raw);
      return typeof v === "string" ? v : typeError(v, f.kind === "double" ? "float64" : "float32");
    default:
      return integer(v, f.kind.replace(/^s?fixed/, (m) => m.startsWith("s") ? "int" : "uint"));
  }
}

function message(fullName: string, v: JsonValue): Record<string, unknown> {
  if (!(v instanceof Map)) return typeError(v, "map[string]json.RawMessage");
  const out: Record<string, unknown> = {};
  const oneofs = new Map<string, string>();
  for (const f of schema.messages[fullName].fields) {
    const raw = v.has(f.name) ? v.get(f.name)! : v.get(f.prop);
    if (raw === undefined || raw === null) continue;
    const one = (x: JsonValue) => f.kind === "message" ? message(f.ref!, x) : scalar(f, x);
    if (f.repeated) {
      if (!Array.isArray(raw)) typeError(raw, "[]json.RawMessage");
      out[f.name] = (raw as JsonValue[]).filter((x) => x !== null).map(one);
    } else {
      out[f.name] = one(raw);
    }
    // Of several members of a oneof, the one declared last is what jsonpb leaves set.
    if (f.oneof) {
      const prior = oneofs.get(f.oneof);
      if (prior !== undefined) delete out[prior];
      oneofs.set(f.oneof, f.name);
    }
  }
  return out;
}

/** A request message from one JSON value of the body; throws GatewayDecodeError. */
export function decodeRequest<K extends MessageName>(
  fullName: K,
  v: JsonValue | undefined,
): MessageTypes[K] {
  // An empty body is an empty request (Go's decoder reports io.EOF, which the gateway ignores).
  return fromJSON(fullName, v === undefined || v === null ? {} : message(fullName, v));
}
