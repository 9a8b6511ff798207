// A reflective protobuf codec: encoders and decoders walk the generated schemas. Decoded
// messages follow contracts.md: every scalar present with its default, repeated fields as
// arrays, absent sub-messages and oneof members undefined, identifier fields as bigint.

import type { FieldSchema, Init, ProtoSchema } from "./schema.ts";
import { Reader, WireType } from "./reader.ts";
import { Writer } from "./writer.ts";

export interface MessageCodec<T> {
  encode(msg: Init<T>): Uint8Array;
  /**
   * The specialised codecs only: the message as field `no` of an enclosing message (tag,
   * length, encoding), in a buffer with `after` bytes left free at its end for the fields the
   * caller writes after it: one allocation for both.
   */
  encodeField?(msg: Init<T>, no: number, after: number): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** A message with every field at its default: what decoding zero bytes gives. */
  create(): T;
}

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

export interface CompiledField extends FieldSchema {
  wt: WireType;
  /** Repeated numeric scalars travel packed (proto3's default). */
  packed: boolean;
  msg?: CompiledMessage;
}

export interface CompiledMessage {
  fullName: string;
  /** The name etcd's decoders put in their errors: the message's, without its package. */
  name: string;
  fields: CompiledField[];
  byNo: Map<number, CompiledField>;
  create: () => Obj;
}

const wireTypeOf: Record<string, WireType> = {
  double: WireType.Fixed64,
  fixed64: WireType.Fixed64,
  sfixed64: WireType.Fixed64,
  float: WireType.Fixed32,
  fixed32: WireType.Fixed32,
  sfixed32: WireType.Fixed32,
  string: WireType.LengthDelimited,
  bytes: WireType.LengthDelimited,
  message: WireType.LengthDelimited,
};

/** The proto3 default of a scalar or enum field. */
export function scalarDefault(f: FieldSchema): unknown {
  switch (f.kind) {
    case "bool":
      return false;
    case "string":
      return "";
    case "bytes":
      return new Uint8Array(0);
    default:
      return f.id ? 0n : 0;
  }
}

/** Compiles every message of a schema once; sub-message links are resolved lazily. */
export function compileSchema(schema: ProtoSchema): Map<string, CompiledMessage> {
  const compiled = new Map<string, CompiledMessage>();
  for (const [fullName, m] of Object.entries(schema.messages)) {
    const fields: CompiledField[] = m.fields.map((f) => ({
      ...f,
      wt: wireTypeOf[f.kind] ?? WireType.Varint,
      packed: !!f.repeated && (wireTypeOf[f.kind] ?? WireType.Varint) !== WireType.LengthDelimited,
    }));
    const create = () => {
      const o: Obj = {};
      for (const f of fields) {
        if (f.repeated) o[f.prop] = [];
        else if (f.kind !== "message" && !f.oneof) o[f.prop] = scalarDefault(f);
      }
      return o;
    };
    compiled.set(fullName, {
      fullName,
      name: fullName.slice(fullName.lastIndexOf(".") + 1),
      fields,
      byNo: new Map(fields.map((f) => [f.no, f])),
      create,
    });
  }
  for (const m of compiled.values()) {
    for (const f of m.fields) if (f.kind === "message") f.msg = compiled.get(f.ref!);
  }
  return compiled;
}

function writeScalar(w: Writer, f: CompiledField, v: Obj[string]): void {
  switch (f.kind) {
    case "bool":
      return w.uint32(v ? 1 : 0);
    case "int32":
    case "enum":
      return w.int32(v);
    case "uint32":
      return w.uint32(v >>> 0);
    case "int64":
    case "uint64":
      return w.int64(v);
    case "fixed32":
    case "sfixed32":
      return w.fixed32(v);
    case "fixed64":
    case "sfixed64":
      return w.fixed64(v);
    case "float":
      return w.float(v);
    case "double":
      return w.double(v);
    case "string":
      return w.string(v);
    case "bytes":
      return w.bytes(v);
  }
}

export function isDefault(f: CompiledField, v: Obj[string]): boolean {
  switch (f.kind) {
    case "bool":
      return !v;
    case "string":
    case "bytes":
      return v.length === 0;
    default:
      return v == 0; // 0 and 0n alike
  }
}

function encodeInto(w: Writer, m: CompiledMessage, obj: Obj): void {
  for (const f of m.fields) {
    const v = obj[f.prop];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      if (v.length === 0) continue;
      if (f.packed) {
        w.tag(f.no, WireType.LengthDelimited);
        const start = w.begin();
        for (const item of v) writeScalar(w, f, item);
        w.end(start);
      } else {
        for (const item of v) writeField(w, f, item);
      }
    } else if (f.kind === "message" || f.oneof || !isDefault(f, v)) {
      // Set oneof members are sent even when they hold the default: their presence is the value.
      writeField(w, f, v);
    }
  }
}

function writeField(w: Writer, f: CompiledField, v: Obj[string]): void {
  w.tag(f.no, f.wt);
  if (f.kind === "message") {
    const start = w.begin();
    encodeInto(w, f.msg!, v);
    w.end(start);
  } else writeScalar(w, f, v);
}

function readScalar(r: Reader, f: CompiledField): unknown {
  switch (f.kind) {
    case "bool":
      return r.bool();
    case "int32":
    case "enum":
      return r.i32();
    case "uint32":
      return r.u32();
    case "int64":
      return f.id ? r.i64n() : r.i64();
    case "uint64":
      return f.id ? r.u64n() : r.u64();
    case "fixed32":
      return r.fixed32();
    case "sfixed32":
      return r.fixed32() | 0;
    case "fixed64":
    case "sfixed64": {
      const signed = f.kind === "sfixed64";
      return f.id ? r.fixed64n(signed) : r.fixed64(signed);
    }
    case "float":
      return r.float();
    case "double":
      return r.double();
    case "string":
      return r.string();
    case "bytes":
      return r.bytes();
  }
}

function decodeFrom(r: Reader, m: CompiledMessage, end: number): Obj {
  const obj = m.create();
  while (r.pos < end) {
    const tag = r.u32();
    const wt = tag & 7;
    const f = m.byNo.get(tag >>> 3);
    if (f === undefined) {
      r.unknown(tag, m.name);
    } else if (f.repeated && f.packed && wt === WireType.LengthDelimited) {
      const stop = r.delimited();
      const list = obj[f.prop];
      while (r.pos < stop) list.push(readScalar(r, f));
      r.ended(stop);
    } else if (wt !== f.wt) {
      // A wire type that does not fit the field is treated as an unknown field, as Go does.
      r.unknown(tag, m.name);
    } else {
      let v: unknown;
      if (f.kind === "message") v = decodeFrom(r, f.msg!, r.delimited());
      else v = readScalar(r, f);
      if (f.repeated) obj[f.prop].push(v);
      else {
        // A later oneof member replaces an earlier one.
        if (f.oneof) { for (const g of m.fields) if (g.oneof === f.oneof) delete obj[g.prop]; }
        obj[f.prop] = v;
      }
    }
  }
  r.ended(end);
  return obj;
}

// Decoding is synchronous and never re-entered, so every reflective codec shares one reader.
const reader = new Reader();

export function makeCodec<T>(m: CompiledMessage): MessageCodec<T> {
  return {
    encode(msg: Init<T>): Uint8Array {
      const w = new Writer();
      encodeInto(w, m, msg as Obj);
      return w.finish();
    },
    decode(bytes: Uint8Array): T {
      return decodeFrom(reader.reset(bytes), m, bytes.length) as T;
    },
    create: () => m.create() as T,
  };
}
