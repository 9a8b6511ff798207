// The oracle of the crash and fault tests: writers that put fresh keys over a lean HTTP/2 client
// and record what was acknowledged, and the checks that every acknowledged write is in the store
// with its value and revision, with no revision skipped or used twice.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { Etcd3 } from "etcd3";
import { etcdctl } from "./etcdctl.ts";
import { sleep } from "./wait.ts";

// A lean Put client on node:http2, written here so that the oracle shares no code with the
// server and never retries on its own: a write counts only when its OK answer arrived.
const enc = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function bytesField(field: number, b: Uint8Array): number[] {
  return [(field << 3) | 2, ...varint(b.length), ...b];
}

/** Reads the varint fields of one message level: field number -> last value or sub-message. */
function fields(buf: Uint8Array): Map<number, number | Uint8Array> {
  const out = new Map<number, number | Uint8Array>();
  let i = 0;
  const readVarint = () => {
    let n = 0, mul = 1, b;
    do {
      b = buf[i++];
      n += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return n;
  };
  while (i < buf.length) {
    const tag = readVarint();
    const wire = tag & 7;
    if (wire === 0) out.set(tag >>> 3, readVarint());
    else if (wire === 2) {
      const len = readVarint();
      out.set(tag >>> 3, buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

/** PutRequest{key, value} -> the PutResponse header's revision; throws unless grpc-status 0. */
export function put(
  session: http2.ClientHttp2Session,
  key: string,
  value: string,
): Promise<number> {
  const msg = new Uint8Array([
    ...bytesField(1, enc.encode(key)),
    ...bytesField(2, enc.encode(value)),
  ]);
  const frame = new Uint8Array(5 + msg.length);
  new DataView(frame.buffer).setUint32(1, msg.length);
  frame.set(msg, 5);
  return new Promise((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": "/etcdserverpb.KV/Put",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Uint8Array[] = [];
    let status: string | undefined;
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("trailers", (t) => status = String(t["grpc-status"]));
    req.on("error", reject);
    req.on("close", () => {
      if (status !== "0") return reject(new Error(`put ${key}: grpc-status ${status}`));
      const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let off = 0;
      for (const c of chunks) body.set(c, (off += c.length) - c.length);
      const header = fields(body.subarray(5)).get(1) as Uint8Array;
      resolve(fields(header).get(3) as number);
    });
    req.end(frame);
  });
}

export interface Acked {
  value: string;
  revision: number;
}

/** Writers that put fresh keys `c/<writer>/<n>` until stopped, recording acknowledged ones. */
export class Writers {
  readonly acked = new Map<string, Acked>();
  attempts = 0;
  failures = 0;
  #paused = true;
  #stopped = false;
  #loops: Promise<void>[] = [];
  #inFlight = 0;
  /** Resolved when paused writers may go on (resume or stop). */
  #resumed = Promise.withResolvers<void>();
  /** Resolved when the last write in flight finished, for a pause() waiting on it. */
  #drained?: PromiseWithResolvers<void>;

  /** `count` writers against `endpoint`; values are padded to `valueBytes` when asked. */
  constructor(
    readonly endpoint: string,
    count: number,
    readonly opts: { valueBytes?: number } = {},
  ) {
    for (let w = 0; w < count; w++) this.#loops.push(this.#run(w));
  }

  resume() {
    this.#paused = false;
    this.#resumed.resolve();
  }

  /** Stops issuing writes and waits for the ones in flight to finish either way. */
  async pause() {
    this.#paused = true;
    this.#resumed = Promise.withResolvers();
    if (this.#inFlight === 0) return;
    this.#drained = Promise.withResolvers();
    await this.#drained.promise;
  }

  async stop() {
    this.#stopped = true;
    this.#paused = true;
    this.#resumed.resolve();
    await Promise.all(this.#loops);
  }

  async #run(w: number) {
    let session: http2.ClientHttp2Session | undefined;
    let n = 0;
    while (!this.#stopped) {
      if (this.#paused) {
        await this.#resumed.promise;
        continue;
      }
      session ??= http2.connect(this.endpoint).on("error", () => {});
      // Every attempt writes a new key, so an unacknowledged write that did reach the log
      // shows up as one extra key and never as a second version of an acknowledged one.
      const key = `c/${w}/${n++}`;
      const value = `v${w}.${n}.${crypto.randomUUID().slice(0, 8)}`.padEnd(
        this.opts.valueBytes ?? 0,
        ".",
      );
      this.attempts++;
      this.#inFlight++;
      try {
        const revision = await put(session, key, value);
        this.acked.set(key, { value, revision });
      } catch {
        this.failures++;
        session.destroy();
        session = undefined;
        await sleep(20);
      } finally {
        if (--this.#inFlight === 0) this.#drained?.resolve();
      }
    }
    session?.destroy();
  }
}

const b64 = (s: string) =>
  new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));

interface Kv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

async function readAll(ep: string, prefix = "c/"): Promise<{ revision: number; kvs: Kv[] }> {
  const r = await etcdctl(ep, "get", prefix, "--prefix", "-w", "json");
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  // deno-lint-ignore no-explicit-any
  const kvs = (j.kvs ?? []).map((kv: any) => ({
    key: b64(kv.key),
    value: b64(kv.value),
    createRevision: kv.create_revision,
    modRevision: kv.mod_revision,
    version: kv.version,
  }));
  return { revision: j.header.revision, kvs };
}

/**
 * Only fresh keys are ever put, so the store is exact: every key at version 1, and the keys'
 * revisions are exactly 2..rev (1 is the empty store), each used once — no gap, no double use.
 */
export async function checkStore(ep: string, acked: Map<string, Acked>): Promise<number> {
  const { revision, kvs } = await readAll(ep);
  const byKey = new Map(kvs.map((kv) => [kv.key, kv]));
  for (const [key, a] of acked) {
    const kv = byKey.get(key);
    assert.ok(kv, `acknowledged write ${key} (revision ${a.revision}) is missing`);
    assert.equal(kv.value, a.value, `value of ${key}`);
    assert.equal(kv.modRevision, a.revision, `${key} acknowledged at another revision`);
  }
  const revs = kvs.map((kv) => {
    assert.equal(kv.version, 1, `${kv.key} has version ${kv.version}`);
    assert.equal(kv.createRevision, kv.modRevision);
    return kv.modRevision;
  }).sort((a, b) => a - b);
  assert.equal(revs.length, revision - 1, `store revision ${revision} but ${revs.length} keys`);
  revs.forEach((r, i) => assert.equal(r, i + 2, `revision ${i + 2} is missing`));
  return revision;
}

/** The revision history (what watchers replay) holds one put per revision 2..rev, in order. */
export async function checkHistory(ep: string, rev: number): Promise<void> {
  const client = new Etcd3({ hosts: ep });
  try {
    const watcher = await client.watch().prefix("c/").startRevision("2").create();
    const revisions = await new Promise<number[]>((resolve) => {
      const seen: number[] = [];
      watcher.on("data", (res) => {
        for (const e of res.events) {
          assert.equal(e.type, "Put");
          seen.push(Number(e.kv.mod_revision));
        }
        if (seen.length >= rev - 1) resolve(seen);
      });
    });
    await watcher.cancel();
    assert.deepEqual(revisions, Array.from({ length: rev - 1 }, (_, i) => i + 2));
  } finally {
    client.close();
  }
}
