// etcd's v2 Request (etcdserverpb.Request) as etcd 3.4 puts it in a raft entry of its own: v2
// writes and quorum reads, the leader's SYNC, a member publishing its attributes and the
// cluster version. etcd declares it proto2 with non-nullable fields, so every field is written
// even at its zero value, except PrevExist and Refresh, which are written only when set; the
// codec here keeps that, and the nanosecond times as bigints, so an entry decodes and encodes
// back to its very bytes. Its conversions to and from the v2 store's request are below.
import {
  ProtoDecodeError,
  Reader,
  type Request,
  sI64,
  sv32,
  wBytes,
  wI64,
  wv32,
} from "../pb/mod.ts";
import type { V2Request } from "../v2store/mod.ts";

/**
 * etcdserverpb.Request without its ID (the entry's), with the two optional booleans absent
 * when not set and the nanosecond times as bigints.
 */
export type EtcdV2Request =
  & Omit<Request, "ID" | "PrevExist" | "Expiration" | "Time" | "Refresh">
  & {
    /** Absent: not given (a plain set); false: create only; true: update only. */
    PrevExist?: boolean;
    /** Absolute expiry in nanoseconds since the epoch; 0: none. */
    Expiration: bigint;
    /** SYNC: the leader's clock in nanoseconds since the epoch. */
    Time: bigint;
    Refresh?: boolean;
  };

/** An EtcdV2Request with every field at its zero value but those given. */
export function etcdV2Request(fields: Partial<EtcdV2Request>): EtcdV2Request {
  return {
    Method: "",
    Path: "",
    Val: "",
    Dir: false,
    PrevValue: "",
    PrevIndex: 0,
    Expiration: 0n,
    Wait: false,
    Since: 0,
    Recursive: false,
    Sorted: false,
    Quorum: false,
    Time: 0n,
    Stream: false,
    ...fields,
  };
}

const utf8 = new TextEncoder();

type Field =
  | [no: number, kind: "string", value: Uint8Array]
  | [no: number, kind: "varint", value: number | bigint];

function fieldsOf(id: bigint, r: EtcdV2Request): Field[] {
  const fields: Field[] = [
    [1, "varint", id],
    [2, "string", utf8.encode(r.Method)],
    [3, "string", utf8.encode(r.Path)],
    [4, "string", utf8.encode(r.Val)],
    [5, "varint", r.Dir ? 1 : 0],
    [6, "string", utf8.encode(r.PrevValue)],
    [7, "varint", r.PrevIndex],
  ];
  if (r.PrevExist !== undefined) fields.push([8, "varint", r.PrevExist ? 1 : 0]);
  fields.push(
    [9, "varint", r.Expiration],
    [10, "varint", r.Wait ? 1 : 0],
    [11, "varint", r.Since],
    [12, "varint", r.Recursive ? 1 : 0],
    [13, "varint", r.Sorted ? 1 : 0],
    [14, "varint", r.Quorum ? 1 : 0],
    [15, "varint", r.Time],
    [16, "varint", r.Stream ? 1 : 0],
  );
  if (r.Refresh !== undefined) fields.push([17, "varint", r.Refresh ? 1 : 0]);
  return fields;
}

const tagOf = (no: number, kind: Field[1]) => (no << 3) | (kind === "string" ? 2 : 0);

/** The entry data etcd writes for `r` with request ID `id`. */
export function encodeEtcdV2Request(id: bigint, r: EtcdV2Request): Uint8Array {
  const fields = fieldsOf(id, r);
  let size = 0;
  for (const [no, kind, v] of fields) {
    size += sv32(tagOf(no, kind));
    size += kind === "string" ? sv32((v as Uint8Array).length) + (v as Uint8Array).length : sI64(v);
  }
  const out = new Uint8Array(size);
  let p = 0;
  for (const [no, kind, v] of fields) {
    p = wv32(out, p, tagOf(no, kind));
    p = kind === "string" ? wBytes(out, p, v as Uint8Array) : wI64(out, p, v as number | bigint);
  }
  return out;
}

const STRINGS = { 2: "Method", 3: "Path", 4: "Val", 6: "PrevValue" } as const;
const BOOLS = {
  5: "Dir",
  8: "PrevExist",
  10: "Wait",
  12: "Recursive",
  13: "Sorted",
  14: "Quorum",
  16: "Stream",
  17: "Refresh",
} as const;

/** Decodes an entry etcd wrote as a bare v2 Request; throws ProtoDecodeError otherwise. */
export function decodeEtcdV2Request(data: Uint8Array): { id: bigint; request: EtcdV2Request } {
  const r = new Reader(data);
  const req = etcdV2Request({});
  let id = 0n;
  while (r.pos < data.length) {
    const tag = r.u32();
    const no = tag >>> 3;
    const wt = tag & 7;
    const want = no in STRINGS ? 2 : 0;
    if (no < 1 || no > 17 || wt !== want) {
      // gogoproto refuses a known field with another wire type, and so does etcd's MustUnmarshal.
      if (no >= 1 && no <= 17) throw new ProtoDecodeError(`proto: wrong wireType = ${wt}`);
      r.unknown(tag, "Request");
      continue;
    }
    if (no in STRINGS) req[STRINGS[no as keyof typeof STRINGS]] = r.string();
    else if (no in BOOLS) req[BOOLS[no as keyof typeof BOOLS]] = r.bool();
    else if (no === 1) id = r.u64n();
    else if (no === 7) req.PrevIndex = r.u64();
    else if (no === 9) req.Expiration = r.i64n();
    else if (no === 11) req.Since = r.u64();
    else if (no === 15) req.Time = r.i64n();
  }
  return { id, request: req };
}

const NS_PER_MS = 1_000_000n;
const toNs = (ms: number | undefined) => ms ? BigInt(Math.round(ms)) * NS_PER_MS : 0n;
const toMs = (ns: bigint) => Number(ns / NS_PER_MS);

/** A path of the v2 API in the member's store: etcd's path.Join(prefix, path). */
export const underPrefix = (prefix: string, path: string) =>
  prefix + (path.startsWith("/") ? path : "/" + path);

/**
 * etcd's request for a v2 store request under `prefix` ("/1" for the keys, "/2" for the v2
 * auth records), as etcd's v2 API proposes it; SYNC has no path.
 */
export function toEtcdV2Request(r: V2Request, prefix: string): EtcdV2Request {
  if (r.method === "SYNC") return etcdV2Request({ Method: "SYNC", Time: toNs(r.time) });
  const fields: Partial<EtcdV2Request> = {
    Method: r.method,
    Path: underPrefix(prefix, r.path),
    Val: r.value ?? "",
    Dir: r.dir ?? false,
    PrevValue: r.prevValue ?? "",
    PrevIndex: r.prevIndex ?? 0,
    Expiration: toNs(r.expiration),
    Recursive: r.recursive ?? false,
    Sorted: r.sorted ?? false,
    Quorum: r.method === "QGET",
  };
  if (r.prevExist !== undefined) fields.PrevExist = r.prevExist;
  if (r.refresh) fields.Refresh = true;
  return etcdV2Request(fields);
}

const METHODS = new Set(["PUT", "POST", "DELETE", "QGET", "SYNC"]);

/** The store's request for etcd's (undefined for a method etcd's applier does not know). */
export function fromEtcdV2Request(r: EtcdV2Request): V2Request | undefined {
  if (!METHODS.has(r.Method)) return undefined;
  const out: V2Request = { method: r.Method as V2Request["method"], path: r.Path };
  if (r.Val !== "") out.value = r.Val;
  if (r.Dir) out.dir = true;
  if (r.PrevValue !== "") out.prevValue = r.PrevValue;
  if (r.PrevIndex !== 0) out.prevIndex = r.PrevIndex;
  if (r.PrevExist !== undefined) out.prevExist = r.PrevExist;
  if (r.Recursive) out.recursive = true;
  if (r.Sorted) out.sorted = true;
  if (r.Refresh) out.refresh = true;
  if (r.Expiration !== 0n) out.expiration = toMs(r.Expiration);
  if (r.Time !== 0n) out.time = toMs(r.Time);
  return out;
}
