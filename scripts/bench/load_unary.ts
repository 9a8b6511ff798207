// The unary gRPC workloads: put, range (linearizable, serializable, 10,000 keys at once),
// compare-and-swap transactions on a few hot keys, and the counted preloads (keys written in
// transactions of `batch` puts, leases granted with fixed IDs).

import { type ClientConnection, unaryCall } from "../../tests/support/h2/mod.ts";
import { Compare_CompareResult, Compare_CompareTarget, messages } from "../../src/pb/mod.ts";
import { encodePutRequest, encodeRangeRequest } from "./pb.ts";
import {
  benchKey,
  benchValue,
  type Load,
  type LoadConfig,
  type Meter,
  openConnections,
  xorshift,
} from "./load_core.ts";

const PUT = "/etcdserverpb.KV/Put";
const RANGE = "/etcdserverpb.KV/Range";
const TXN = "/etcdserverpb.KV/Txn";
const LEASE_GRANT = "/etcdserverpb.Lease/LeaseGrant";

/** Keys a range-10k request spans. */
export const WIDE_RANGE = 10_000;
/** TTL of the preloaded leases: longer than any run, so none expires while measured. */
export const LEASE_TTL = 3600;
/** Encoded requests kept per key only while they fit this budget (large values are encoded per
 * request: copying 64 KiB costs less than holding 10,000 copies). */
const CACHE_BUDGET = 64 * 1024 * 1024;

const enc = new TextEncoder();

/** A request body per index, made once when the bodies fit the cache budget. */
function bodies(
  n: number,
  size: number,
  make: (i: number) => Uint8Array,
): (i: number) => Uint8Array {
  if (n * size > CACHE_BUDGET) return make;
  const cache: Uint8Array[] = [];
  return (i) => cache[i] ??= make(i);
}

/** The request of one op: the path and the body for a random draw. */
function requestMaker(cfg: LoadConfig): { path: string; body: (seq: number) => Uint8Array } {
  const random = xorshift();
  const value = benchValue(cfg.valueSize);
  const key = (i: number) => enc.encode(benchKey(i));
  const pick = () => Math.floor(random() * cfg.keySpace);
  switch (cfg.workload) {
    case "put": {
      const b = bodies(
        cfg.keySpace,
        cfg.valueSize,
        (i) => encodePutRequest({ key: key(i), value }),
      );
      // counted: each key once, in order (a preload through Put)
      return { path: PUT, body: (seq) => b(cfg.count === undefined ? pick() : seq % cfg.keySpace) };
    }
    case "range":
    case "range-serializable": {
      const serializable = cfg.workload === "range-serializable";
      const b = bodies(cfg.keySpace, 32, (i) => encodeRangeRequest({ key: key(i), serializable }));
      return { path: RANGE, body: () => b(pick()) };
    }
    case "range-10k": {
      const starts = Math.max(1, cfg.keySpace - WIDE_RANGE + 1);
      return {
        path: RANGE,
        body: () => {
          const s = Math.floor(random() * starts);
          return encodeRangeRequest({ key: key(s), rangeEnd: key(s + WIDE_RANGE) });
        },
      };
    }
    case "preload": {
      const batch = cfg.batch ?? 1;
      return { path: TXN, body: (seq) => preloadTxn(seq * batch, batch, cfg.keySpace, value) };
    }
    case "lease-grant":
      return {
        path: LEASE_GRANT,
        body: (seq) =>
          messages["etcdserverpb.LeaseGrantRequest"].encode({ ID: seq + 1, TTL: LEASE_TTL }),
      };
    default:
      throw new Error(`not a unary workload: ${cfg.workload}`);
  }
}

/** One Txn putting keys [first, first + batch) that fall below `keys`. */
function preloadTxn(first: number, batch: number, keys: number, value: Uint8Array): Uint8Array {
  const success = [];
  for (let i = first; i < Math.min(first + batch, keys); i++) {
    success.push({ requestPut: { key: enc.encode(benchKey(i)), value } });
  }
  return messages["etcdserverpb.TxnRequest"].encode({ success });
}

/** Compare-and-swap on `hotKeys` keys: put if the key's mod revision is still the one last
 * seen, else read it (the failure branch) and remember the new revision. */
function casLoad(cfg: LoadConfig, conns: ClientConnection[], meter: Meter): Load {
  const random = xorshift();
  const value = benchValue(cfg.valueSize);
  const hot = cfg.hotKeys ?? 10;
  const keys = Array.from({ length: hot }, (_, i) => enc.encode(`/bench/hot/${i}`));
  const seen = new Array<number>(hot).fill(0);
  const txn = messages["etcdserverpb.TxnRequest"];
  const res = messages["etcdserverpb.TxnResponse"];
  return {
    timed: true,
    async op(slot) {
      const k = Math.floor(random() * hot);
      const key = keys[k];
      const body = txn.encode({
        compare: [{
          result: Compare_CompareResult.EQUAL,
          target: Compare_CompareTarget.MOD,
          key,
          modRevision: seen[k],
        }],
        success: [{ requestPut: { key, value } }],
        failure: [{ requestRange: { key } }],
      });
      const r = res.decode(await unaryCall(conns[slot % conns.length], TXN, body));
      if (r.succeeded) {
        meter.count("swapped");
        seen[k] = r.header?.revision ?? 0;
      } else {
        seen[k] = r.responses[0]?.responseRange?.kvs[0]?.modRevision ?? 0;
      }
    },
    close: () => conns.forEach((c) => c.destroy()),
  };
}

export async function makeUnaryLoad(cfg: LoadConfig, meter: Meter): Promise<Load> {
  const conns = await openConnections(cfg);
  if (cfg.workload === "txn-cas") return casLoad(cfg, conns, meter);
  const { path, body } = requestMaker(cfg);
  return {
    timed: true,
    async op(slot, seq) {
      await unaryCall(conns[slot % conns.length], path, body(seq));
    },
    close: () => conns.forEach((c) => c.destroy()),
  };
}
