// Specialised protobuf coding of the benchmark's hot messages (etcdserverpb PutRequest,
// RangeRequest and their responses; field numbers from spec/api.md §4): straight-line code, no
// reflection, so the generator spends its CPU on requests, not on codecs.

const textEncoder = new TextEncoder();

function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, i: number, v: number): number {
  while (v >= 128) {
    out[i++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[i++] = v;
  return i;
}

function writeBytes(out: Uint8Array, i: number, tag: number, b: Uint8Array): number {
  out[i++] = tag;
  i = writeVarint(out, i, b.length);
  out.set(b, i);
  return i + b.length;
}

const bytesFieldLength = (b: Uint8Array) => 1 + varintLength(b.length) + b.length;

export function asBytes(s: string | Uint8Array): Uint8Array {
  return typeof s === "string" ? textEncoder.encode(s) : s;
}

export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  lease?: number;
  prevKv?: boolean;
}

/** etcdserverpb.PutRequest: key=1, value=2, lease=3, prev_kv=4. */
export function encodePutRequest(r: PutRequest): Uint8Array {
  const lease = r.lease ?? 0;
  const n = (r.key.length ? bytesFieldLength(r.key) : 0) +
    (r.value.length ? bytesFieldLength(r.value) : 0) +
    (lease ? 1 + varintLength(lease) : 0) + (r.prevKv ? 2 : 0);
  const out = new Uint8Array(n);
  let i = 0;
  if (r.key.length) i = writeBytes(out, i, 0x0a, r.key);
  if (r.value.length) i = writeBytes(out, i, 0x12, r.value);
  if (lease) {
    out[i++] = 0x18;
    i = writeVarint(out, i, lease);
  }
  if (r.prevKv) {
    out[i++] = 0x20;
    out[i++] = 1;
  }
  return out;
}

export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  limit?: number;
  serializable?: boolean;
}

/** etcdserverpb.RangeRequest: key=1, range_end=2, limit=3, serializable=7. */
export function encodeRangeRequest(r: RangeRequest): Uint8Array {
  const end = r.rangeEnd ?? new Uint8Array(0);
  const limit = r.limit ?? 0;
  const n = (r.key.length ? bytesFieldLength(r.key) : 0) +
    (end.length ? bytesFieldLength(end) : 0) +
    (limit ? 1 + varintLength(limit) : 0) + (r.serializable ? 2 : 0);
  const out = new Uint8Array(n);
  let i = 0;
  if (r.key.length) i = writeBytes(out, i, 0x0a, r.key);
  if (end.length) i = writeBytes(out, i, 0x12, end);
  if (limit) {
    out[i++] = 0x18;
    i = writeVarint(out, i, limit);
  }
  if (r.serializable) {
    out[i++] = 0x38;
    out[i++] = 1;
  }
  return out;
}

/** A bounds-checked protobuf reader; malformed input throws. */
class Reader {
  i = 0;
  constructor(readonly b: Uint8Array, readonly end = b.length) {}

  varint(): number {
    let v = 0, m = 1;
    for (;;) {
      if (this.i >= this.end) throw new Error("truncated varint");
      const c = this.b[this.i++];
      v += (c & 127) * m;
      if ((c & 128) === 0) return v;
      m *= 128;
      if (m > 2 ** 63) throw new Error("varint too long");
    }
  }

  bigVarint(): bigint {
    let v = 0n, shift = 0n;
    for (;;) {
      if (this.i >= this.end) throw new Error("truncated varint");
      const c = this.b[this.i++];
      v |= BigInt(c & 127) << shift;
      if ((c & 128) === 0) return BigInt.asUintN(64, v);
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  }

  /** Returns [start, end) of a length-delimited field. */
  span(): [number, number] {
    const n = this.varint();
    const s = this.i;
    if (n > this.end - s) throw new Error("truncated field");
    this.i = s + n;
    return [s, s + n];
  }

  skip(wireType: number) {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.i += 8;
        break;
      case 2:
        this.span();
        return;
      case 5:
        this.i += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
    if (this.i > this.end) throw new Error("truncated field");
  }
}

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

export interface KeyValue {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Uint8Array;
  lease: bigint;
}

function decodeHeader(b: Uint8Array, s: number, e: number): ResponseHeader {
  const r = new Reader(b, e);
  r.i = s;
  const h: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };
  while (r.i < e) {
    const tag = r.varint();
    switch (tag) {
      case 0x08:
        h.clusterId = r.bigVarint();
        break;
      case 0x10:
        h.memberId = r.bigVarint();
        break;
      case 0x18:
        h.revision = r.varint();
        break;
      case 0x20:
        h.raftTerm = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return h;
}

function decodeKeyValue(b: Uint8Array, s: number, e: number): KeyValue {
  const r = new Reader(b, e);
  r.i = s;
  const kv: KeyValue = {
    key: new Uint8Array(0),
    createRevision: 0,
    modRevision: 0,
    version: 0,
    value: new Uint8Array(0),
    lease: 0n,
  };
  while (r.i < e) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a: {
        const [a, z] = r.span();
        kv.key = b.subarray(a, z);
        break;
      }
      case 0x10:
        kv.createRevision = r.varint();
        break;
      case 0x18:
        kv.modRevision = r.varint();
        break;
      case 0x20:
        kv.version = r.varint();
        break;
      case 0x2a: {
        const [a, z] = r.span();
        kv.value = b.subarray(a, z);
        break;
      }
      case 0x30:
        kv.lease = r.bigVarint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return kv;
}

const emptyHeader = (): ResponseHeader => ({
  clusterId: 0n,
  memberId: 0n,
  revision: 0,
  raftTerm: 0,
});

/** etcdserverpb.PutResponse: header=1, prev_kv=2. */
export function decodePutResponse(b: Uint8Array): { header: ResponseHeader; prevKv?: KeyValue } {
  const r = new Reader(b);
  const out: { header: ResponseHeader; prevKv?: KeyValue } = { header: emptyHeader() };
  while (r.i < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) out.header = decodeHeader(b, ...r.span());
    else if (tag === 0x12) out.prevKv = decodeKeyValue(b, ...r.span());
    else r.skip(tag & 7);
  }
  return out;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

/** etcdserverpb.RangeResponse: header=1, kvs=2, more=3, count=4. */
export function decodeRangeResponse(b: Uint8Array): RangeResponse {
  const r = new Reader(b);
  const out: RangeResponse = { header: emptyHeader(), kvs: [], more: false, count: 0 };
  while (r.i < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) out.header = decodeHeader(b, ...r.span());
    else if (tag === 0x12) out.kvs.push(decodeKeyValue(b, ...r.span()));
    else if (tag === 0x18) out.more = r.varint() !== 0;
    else if (tag === 0x20) out.count = r.varint();
    else r.skip(tag & 7);
  }
  return out;
}

/** How many times top-level field `field` occurs in a message (a WatchResponse's events=11):
 * counted without decoding them, so a watch generator keeps up with many watchers. */
export function countField(b: Uint8Array, field: number): number {
  const r = new Reader(b);
  let n = 0;
  while (r.i < r.end) {
    const tag = r.varint();
    if (tag >>> 3 === field) n++;
    r.skip(tag & 7);
  }
  return n;
}
