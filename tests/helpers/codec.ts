// fast-check arbitraries for any message of the generated schema, the decoded form a partial
// message is expected to take (contracts.md: defaults filled, oneofs as sent), and a labelled
// deepStrictEqual for property tests that loop over many message types.

import assert from "node:assert/strict";
import fc from "fast-check";
import { schema } from "../../src/pb/generated.ts";
import type { FieldSchema } from "../../src/pb/schema.ts";

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

function scalarArb(f: FieldSchema): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case "bool":
      return fc.boolean();
    case "string":
      return fc.string({ unit: "grapheme", maxLength: 12 });
    case "bytes":
      return fc.uint8Array({ maxLength: 24 });
    case "enum":
      return fc.constantFrom(...Object.values(schema.enums[f.ref!]));
    case "int32":
    case "sfixed32":
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case "uint32":
    case "fixed32":
      return fc.integer({ min: 0, max: 0xffffffff });
    case "int64":
    case "sfixed64":
      return f.id
        ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
        : fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
    case "uint64":
    case "fixed64":
      return f.id ? fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) : fc.maxSafeNat();
    case "float":
      return fc.float({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0));
    case "double":
      return fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0));
    default:
      throw new Error(`no arbitrary for ${f.kind}`);
  }
}

/** Partial messages of `name`: any field may be missing; nesting stops at `depth`. */
export function messageArb(name: string, depth = 3): fc.Arbitrary<Obj> {
  const fields = schema.messages[name].fields;
  const valueArb = (f: FieldSchema): fc.Arbitrary<unknown> | undefined => {
    if (f.kind !== "message") return scalarArb(f);
    return depth > 0 ? messageArb(f.ref!, depth - 1) : undefined;
  };
  const plain: Record<string, fc.Arbitrary<unknown>> = {};
  const oneofs = new Map<string, FieldSchema[]>();
  for (const f of fields) {
    if (f.oneof) oneofs.set(f.oneof, [...(oneofs.get(f.oneof) ?? []), f]);
    else {
      const a = valueArb(f);
      if (a) plain[f.prop] = f.repeated ? fc.array(a, { maxLength: 3 }) : a;
    }
  }
  let arb: fc.Arbitrary<Obj> = fc.record(plain, { requiredKeys: [] }) as fc.Arbitrary<Obj>;
  for (const members of oneofs.values()) {
    const choices: fc.Arbitrary<Obj>[] = [fc.constant({})];
    for (const f of members) {
      const a = valueArb(f);
      if (a) choices.push(a.map((v) => ({ [f.prop]: v })));
    }
    arb = fc.tuple(arb, fc.oneof(...choices)).map(([a, b]) => ({ ...a, ...b }));
  }
  return arb;
}

function defaultOf(f: FieldSchema): unknown {
  if (f.kind === "bool") return false;
  if (f.kind === "string") return "";
  if (f.kind === "bytes") return new Uint8Array(0);
  return f.id ? 0n : 0;
}

/** The decoded form of a partial message. */
export function normalize(name: string, msg: Obj): Obj {
  const out: Obj = {};
  for (const f of schema.messages[name].fields) {
    const v = msg[f.prop];
    const one = (x: unknown) => (f.kind === "message" ? normalize(f.ref!, x as Obj) : x);
    if (f.repeated) out[f.prop] = (v ?? []).map(one);
    else if (v !== undefined) out[f.prop] = one(v);
    else if (f.kind !== "message" && !f.oneof) out[f.prop] = defaultOf(f);
  }
  return out;
}

export function assertEquals(actual: unknown, expected: unknown, label: string): void {
  try {
    assert.deepStrictEqual(actual, expected);
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`);
  }
}
