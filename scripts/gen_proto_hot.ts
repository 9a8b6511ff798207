// Emits src/pb/hot.generated.ts: straight-line protobuf codecs for the messages on the
// request path (KV, Watch, Lease and what they contain). They are written from the same schema
// the reflective codec walks, so the field numbers, kinds and identifier fields cannot drift
// from proto/; only the walk is unrolled. scripts/gen_proto.ts writes this file after
// generated.ts.

import type { FieldSchema, ProtoSchema } from "../src/pb/schema.ts";

/** The messages served specialised; the messages they contain are added automatically. */
export const HOT_ROOTS: readonly string[] = [
  "etcdserverpb.RangeRequest",
  "etcdserverpb.RangeResponse",
  "etcdserverpb.PutRequest",
  "etcdserverpb.PutResponse",
  "etcdserverpb.DeleteRangeRequest",
  "etcdserverpb.DeleteRangeResponse",
  "etcdserverpb.TxnRequest",
  "etcdserverpb.TxnResponse",
  "etcdserverpb.WatchRequest",
  "etcdserverpb.WatchResponse",
  "etcdserverpb.LeaseGrantRequest",
  "etcdserverpb.LeaseGrantResponse",
  "etcdserverpb.LeaseRevokeRequest",
  "etcdserverpb.LeaseRevokeResponse",
  "etcdserverpb.LeaseKeepAliveRequest",
  "etcdserverpb.LeaseKeepAliveResponse",
  "etcdserverpb.LeaseTimeToLiveRequest",
  "etcdserverpb.LeaseTimeToLiveResponse",
];

/** Every hot message: the roots and, transitively, their sub-messages, in a stable order. */
export function hotMessages(schema: ProtoSchema): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    if (!schema.messages[name]) throw new Error(`hot message ${name} is not in the schema`);
    seen.add(name);
    for (const f of schema.messages[name].fields) if (f.kind === "message") visit(f.ref!);
  };
  HOT_ROOTS.forEach(visit);
  return [...seen].sort();
}

const WIRE: Record<string, number> = { bytes: 2, string: 2, message: 2 };
const VARINT_KINDS = new Set(["bool", "int32", "uint32", "enum", "int64", "uint64"]);

const ident = (name: string) => name.replaceAll(".", "_");

/** The wire type a field is written with: repeated numbers travel packed. */
const wireOf = (f: FieldSchema) => (f.kind === "message" || WIRE[f.kind] || f.repeated ? 2 : 0);

/** The tag's varint bytes, which the writer emits as constants. */
function tagBytes(no: number, wt: number): number[] {
  const out: number[] = [];
  let v = (no << 3 | wt) >>> 0;
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function check(full: string, f: FieldSchema): void {
  if (f.kind !== "message" && !VARINT_KINDS.has(f.kind) && !WIRE[f.kind]) {
    throw new Error(`${full}.${f.name}: ${f.kind} is not supported by the hot codecs`);
  }
}

/** Size in bytes of one scalar value `x` (excluding tag), as an expression. */
function scalarSize(f: FieldSchema, x: string): string {
  switch (f.kind) {
    case "bool":
      return "1";
    case "int32":
    case "enum":
      return `sI32(${x})`;
    case "uint32":
      return `sv32(${x} >>> 0)`;
    case "int64":
    case "uint64":
      return `sI64(${x})`;
    case "bytes":
      return `sv32(${x}.length) + ${x}.length`;
  }
  throw new Error(`no size for ${f.kind}`);
}

/** Statement writing one scalar value `x` (excluding tag) at `p`. */
function scalarWrite(f: FieldSchema, x: string): string {
  switch (f.kind) {
    case "bool":
      return `b[p++] = ${x} ? 1 : 0;`;
    case "int32":
    case "enum":
      return `p = wI32(b, p, ${x});`;
    case "uint32":
      return `p = wv32(b, p, ${x} >>> 0);`;
    case "int64":
    case "uint64":
      return `p = wI64(b, p, ${x});`;
    case "bytes":
      return `p = wBytes(b, p, ${x});`;
  }
  throw new Error(`no writer for ${f.kind}`);
}

function scalarRead(f: FieldSchema): string {
  switch (f.kind) {
    case "bool":
      return "c.bool()";
    case "int32":
    case "enum":
      return "c.i32()";
    case "uint32":
      return "c.u32()";
    case "int64":
      return f.id ? "c.i64n()" : "c.i64()";
    case "uint64":
      return f.id ? "c.u64n()" : "c.u64()";
    case "bytes":
      return "c.bytes()";
    case "string":
      return "c.string()";
  }
  throw new Error(`no reader for ${f.kind}`);
}

function defaultOf(f: FieldSchema): string {
  switch (f.kind) {
    case "bool":
      return "false";
    case "string":
      return '""';
    default:
      return f.id ? "0n" : "0";
  }
}

function sizeFn(full: string, fields: FieldSchema[]): string[] {
  // An empty message leaves its parameters unused: they are named with a leading underscore.
  const u = fields.length ? "" : "_";
  const out = [`function size_${ident(full)}(${u}m: Init<T[${JSON.stringify(full)}]>): number {`];
  out.push(`  ${fields.length ? "let" : "const"} n = 0;`);
  for (const f of fields) {
    const v = `m.${f.prop}`;
    const t = tagBytes(f.no, wireOf(f)).length;
    const local = `f${f.no}`;
    out.push(`  const ${local} = ${v};`);
    if (f.repeated) {
      out.push(`  if (${local} != null && ${local}.length !== 0) {`);
      if (f.kind === "message") {
        out.push(
          `    for (const x of ${local}) {`,
          "      const i = top++;",
          `      const s = size_${ident(f.ref!)}(x);`,
          "      sizes[i] = s;",
          `      n += ${t} + sv32(s) + s;`,
          "    }",
        );
      } else if (f.kind === "string") {
        out.push(
          `    for (const x of ${local}) {`,
          "      const s = utf8Length(x);",
          "      sizes[top++] = s;",
          `      n += ${t} + sv32(s) + s;`,
          "    }",
        );
      } else if (f.kind === "bytes") {
        out.push(`    for (const x of ${local}) n += ${t} + ${scalarSize(f, "x")};`);
      } else {
        // Packed: one tag, the payload length, then the values.
        out.push(
          "    let s = 0;",
          `    for (const x of ${local}) s += ${scalarSize(f, "x")};`,
          "    sizes[top++] = s;",
          `    n += ${t} + sv32(s) + s;`,
        );
      }
      out.push("  }");
      continue;
    }
    // Oneof members and sub-messages are sent whenever set; other fields unless default.
    const present = f.kind === "message" || f.oneof
      ? `${local} != null`
      : f.kind === "bool"
      ? `${local}`
      : f.kind === "string" || f.kind === "bytes"
      ? `${local} != null && ${local}.length !== 0`
      : `${local} != null && ${local} != 0`;
    out.push(`  if (${present}) {`);
    if (f.kind === "message") {
      out.push(
        "    const i = top++;",
        `    const s = size_${ident(f.ref!)}(${local});`,
        "    sizes[i] = s;",
        `    n += ${t} + sv32(s) + s;`,
      );
    } else if (f.kind === "string") {
      out.push(
        `    const s = utf8Length(${local});`,
        "    sizes[top++] = s;",
        `    n += ${t} + sv32(s) + s;`,
      );
    } else out.push(`    n += ${t} + ${scalarSize(f, local)};`);
    out.push("  }");
  }
  out.push("  return n;", "}", "");
  return out;
}

function writeFn(full: string, fields: FieldSchema[]): string[] {
  const u = fields.length ? "" : "_";
  const out = [
    `function write_${ident(full)}(${u}b: Uint8Array, p: number, ${u}m: Init<T[${
      JSON.stringify(full)
    }]>): number {`,
  ];
  for (const f of fields) {
    const local = `f${f.no}`;
    const tag = tagBytes(f.no, wireOf(f))
      .map((x) => `b[p++] = ${x};`).join(" ");
    out.push(`  const ${local} = m.${f.prop};`);
    if (f.repeated) {
      out.push(`  if (${local} != null && ${local}.length !== 0) {`);
      if (f.kind === "message") {
        out.push(
          `    for (const x of ${local}) {`,
          `      ${tag}`,
          "      p = wv32(b, p, sizes[cur++]);",
          `      p = write_${ident(f.ref!)}(b, p, x);`,
          "    }",
        );
      } else if (f.kind === "string") {
        out.push(
          `    for (const x of ${local}) {`,
          `      ${tag}`,
          "      p = wString(b, p, x, sizes[cur++]);",
          "    }",
        );
      } else if (f.kind === "bytes") {
        out.push(
          `    for (const x of ${local}) {`,
          `      ${tag}`,
          "      p = wBytes(b, p, x);",
          "    }",
        );
      } else {
        out.push(
          `    ${tag}`,
          "    p = wv32(b, p, sizes[cur++]);",
          `    for (const x of ${local}) ${scalarWrite(f, "x")}`,
        );
      }
      out.push("  }");
      continue;
    }
    const present = f.kind === "message" || f.oneof
      ? `${local} != null`
      : f.kind === "bool"
      ? `${local}`
      : f.kind === "string" || f.kind === "bytes"
      ? `${local} != null && ${local}.length !== 0`
      : `${local} != null && ${local} != 0`;
    out.push(`  if (${present}) {`, `    ${tag}`);
    if (f.kind === "message") {
      out.push(
        "    p = wv32(b, p, sizes[cur++]);",
        `    p = write_${ident(f.ref!)}(b, p, ${local});`,
      );
    } else if (f.kind === "string") {
      out.push(`    p = wString(b, p, ${local}, sizes[cur++]);`);
    } else out.push(`    ${scalarWrite(f, local)}`);
    out.push("  }");
  }
  out.push("  return p;", "}", "");
  return out;
}

function readFn(full: string, fields: FieldSchema[]): string[] {
  const type = `T[${JSON.stringify(full)}]`;
  // etcd's decoders name the message without its package in their errors.
  const name = JSON.stringify(full.slice(full.lastIndexOf(".") + 1));
  const out = [`function read_${ident(full)}(c: Reader, end: number): ${type} {`];
  // Fields are gathered in locals and the object built once, with a stable shape.
  for (const f of fields) {
    const ft = `${type}[${JSON.stringify(f.prop)}]`;
    if (f.repeated) out.push(`  const f${f.no}: ${ft} = [];`);
    else if (f.kind === "message" || f.oneof || f.kind === "bytes") {
      out.push(`  let f${f.no}: ${ft} | undefined;`);
    } else out.push(`  let f${f.no}: ${ft} = ${defaultOf(f)};`);
  }
  out.push("  while (c.pos < end) {", "    const tag = c.u32();");
  if (fields.length) out.push("    switch (tag) {");
  for (const f of fields) {
    const wt = f.kind === "message" || WIRE[f.kind] ? 2 : 0;
    const local = `f${f.no}`;
    const value = f.kind === "message" ? `read_${ident(f.ref!)}(c, c.delimited())` : scalarRead(f);
    // A later oneof member replaces an earlier one.
    const clear = f.oneof
      ? fields.filter((g) => g.oneof === f.oneof && g !== f).map((g) => `f${g.no} = undefined;`)
      : [];
    const set = f.repeated ? `${local}.push(${value});` : `${local} = ${value};`;
    out.push(
      `      case ${f.no << 3 | wt}: {`,
      ...[...clear, set, "continue;"].map((s) => `        ${s}`),
    );
    out.push("      }");
    if (f.repeated && wt === 0) {
      // Packed form of a repeated scalar (what proto3 encoders send).
      out.push(
        `      case ${f.no << 3 | 2}: {`,
        "        const stop = c.delimited();",
        `        while (c.pos < stop) ${local}.push(${value});`,
        "        c.ended(stop);",
        "        continue;",
        "      }",
      );
    }
  }
  if (fields.length) out.push("    }");
  out.push(`    c.unknown(tag, ${name});`, "  }", "  c.ended(end);");
  const props = fields.filter((f) => f.repeated || (f.kind !== "message" && !f.oneof)).map((f) =>
    f.kind === "bytes" && !f.repeated
      ? `${f.prop}: f${f.no} ?? emptyBytes()`
      : `${f.prop}: f${f.no}`
  );
  const optional = fields.filter((f) => !f.repeated && (f.kind === "message" || f.oneof));
  out.push(`  const m: ${type} = { ${props.join(", ")} };`);
  for (const f of optional) out.push(`  if (f${f.no} !== undefined) m.${f.prop} = f${f.no};`);
  out.push("  return m;", "}", "");
  return out;
}

/** The generated module's source, before formatting. */
export function generateHot(schema: ProtoSchema): string {
  const names = hotMessages(schema);
  const out: string[] = [
    "// Generated by scripts/gen_proto_hot.ts from the schema in generated.ts; regenerate with",
    "// scripts/gen_proto.ts. Specialised codecs for the request-path messages: each encoder",
    "// sizes the message (sizes of nested messages and strings are kept in `sizes`, in visiting",
    "// order), allocates once and writes; each decoder reads with one reader.",
    'import type { MessageCodec } from "./codec.ts";',
    'import type { MessageTypes as T } from "./generated.ts";',
    'import { emptyBytes, Reader } from "./reader.ts";',
    'import type { Init } from "./schema.ts";',
    'import { sI32, sI64, sv32, utf8Length, wBytes, wI32, wI64, wString, wv32 } from "./writer.ts";',
    "",
    "const sizes: number[] = [];",
    "let top = 0;",
    "let cur = 0;",
    "const reader = new Reader();",
    "",
    "/** `m` as field `no` (tag, length, message) of another, `after` bytes left free behind it. */",
    "function encodeAsField<M>(",
    "  m: M,",
    "  no: number,",
    "  after: number,",
    "  size: (m: M) => number,",
    "  write: (b: Uint8Array, p: number, m: M) => number,",
    "): Uint8Array {",
    "  top = 0;",
    "  const n = size(m);",
    "  const tag = (no << 3) | 2;",
    "  const b = new Uint8Array(sv32(tag) + sv32(n) + n + after);",
    "  cur = 0;",
    "  write(b, wv32(b, wv32(b, 0, tag), n), m);",
    "  return b;",
    "}",
    "",
  ];
  for (const full of names) {
    const fields = schema.messages[full].fields;
    fields.forEach((f) => check(full, f));
    out.push(...sizeFn(full, fields), ...writeFn(full, fields), ...readFn(full, fields));
  }
  out.push(
    "/** Specialised codecs by full message name; mod.ts prefers these to the reflective ones. */",
    "export const hotCodecs = {",
  );
  for (const full of names) {
    const id = ident(full);
    const key = JSON.stringify(full);
    out.push(
      `  ${key}: {`,
      `    encode(m: Init<T[${key}]>): Uint8Array {`,
      "      top = 0;",
      `      const b = new Uint8Array(size_${id}(m));`,
      "      cur = 0;",
      `      write_${id}(b, 0, m);`,
      "      return b;",
      "    },",
      `    encodeField(m: Init<T[${key}]>, no: number, after: number): Uint8Array {`,
      `      return encodeAsField(m, no, after, size_${id}, write_${id});`,
      "    },",
      `    decode(bytes: Uint8Array): T[${key}] {`,
      `      return read_${id}(reader.reset(bytes), bytes.length);`,
      "    },",
      `    create(): T[${key}] {`,
      `      return read_${id}(reader.reset(new Uint8Array(0)), 0);`,
      "    },",
      `  } satisfies MessageCodec<T[${key}]>,`,
    );
  }
  out.push("};", "");
  return out.join("\n");
}
