// Client requests of the checker's model (tests/robustness) run against a member's facades
// (KvApi, LeaseApi), and the member's answers turned back into the model's terms.

import { Compare_CompareResult, Compare_CompareTarget } from "../../../src/pb/mod.ts";
import { LeaseError } from "../../../src/lease/mod.ts";
import type { EtcdServer } from "../../../src/server/mod.ts";
import {
  type Compare,
  type DefiniteError,
  ErrDuplicateKey,
  ErrFutureRev,
  ErrLeaseExist,
  ErrLeaseNotFound,
  type KeyValue,
  type Request,
  type RequestOp,
  type Result,
  type ResultOp,
} from "../../robustness/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

type ServerKv = Awaited<ReturnType<EtcdServer["kv"]["range"]>>["kvs"][number];
type ServerTxn = Parameters<EtcdServer["kv"]["txn"]>[0];
type ServerOp = NonNullable<ServerTxn["success"]>[number];
type ServerResponseOp = Awaited<ReturnType<EtcdServer["kv"]["txn"]>>["responses"][number];

export function toKv(kv: ServerKv): KeyValue {
  return {
    key: dec.decode(kv.key),
    value: dec.decode(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: Number(kv.lease),
  };
}

const optionalKvs = (kvs: ServerKv[] | undefined) => kvs?.map(toKv);
const optionalBytes = (s: string | undefined) => s === undefined ? undefined : enc.encode(s);

/** The server's form of a model request inside a txn. */
function toServerOp(op: RequestOp): ServerOp {
  switch (op.type) {
    case "range":
      return {
        requestRange: {
          key: enc.encode(op.key),
          rangeEnd: optionalBytes(op.rangeEnd),
          revision: op.revision,
          serializable: op.serializable,
          limit: op.limit,
        },
      };
    case "put":
      return {
        requestPut: {
          key: enc.encode(op.key),
          value: enc.encode(op.value),
          lease: BigInt(op.lease ?? 0),
          prevKv: op.prevKv,
        },
      };
    case "deleteRange":
      return {
        requestDeleteRange: {
          key: enc.encode(op.key),
          rangeEnd: optionalBytes(op.rangeEnd),
          prevKv: op.prevKv,
        },
      };
  }
}

const RESULTS = {
  equal: Compare_CompareResult.EQUAL,
  not_equal: Compare_CompareResult.NOT_EQUAL,
  greater: Compare_CompareResult.GREATER,
  less: Compare_CompareResult.LESS,
};

function toServerCompare(c: Compare) {
  const base = { key: enc.encode(c.key), result: RESULTS[c.result] };
  switch (c.target) {
    case "value":
      return { ...base, target: Compare_CompareTarget.VALUE, value: enc.encode(String(c.value)) };
    case "version":
      return { ...base, target: Compare_CompareTarget.VERSION, version: Number(c.value) };
    case "create":
      return { ...base, target: Compare_CompareTarget.CREATE, createRevision: Number(c.value) };
    case "mod":
      return { ...base, target: Compare_CompareTarget.MOD, modRevision: Number(c.value) };
    case "lease":
      return { ...base, target: Compare_CompareTarget.LEASE, lease: BigInt(c.value) };
  }
}

function fromResponseOp(op: RequestOp, r: ServerResponseOp): ResultOp {
  switch (op.type) {
    case "range": {
      const res = r.responseRange!;
      return { type: "range", kvs: res.kvs.map(toKv), count: res.count, more: res.more };
    }
    case "put":
      return { type: "put", prevKv: r.responsePut!.prevKv && toKv(r.responsePut!.prevKv) };
    case "deleteRange": {
      const res = r.responseDeleteRange!;
      return { type: "deleteRange", deleted: res.deleted, prevKvs: optionalKvs(res.prevKvs) };
    }
  }
}

/** Runs `req` on `server`; resolves with the revision of the answer's header and the result. */
export async function perform(
  server: EtcdServer,
  req: Request,
): Promise<{ revision: number; result: Result }> {
  switch (req.type) {
    case "range":
    case "put":
    case "deleteRange": {
      const res = await performOp(server, req);
      return { revision: res.revision, result: res.result };
    }
    case "txn": {
      const res = await server.kv.txn({
        compare: req.compare.map(toServerCompare),
        success: req.success.map(toServerOp),
        failure: req.failure.map(toServerOp),
      });
      const ops = res.succeeded ? req.success : req.failure;
      const responses = ops.map((op, i) => fromResponseOp(op, res.responses[i]));
      return {
        revision: res.header.revision,
        result: { type: "txn", succeeded: res.succeeded, responses },
      };
    }
    case "leaseGrant": {
      const res = await server.lease.grant(BigInt(req.id), req.ttl);
      return { revision: res.header.revision, result: { type: "leaseGrant", id: Number(res.ID) } };
    }
    case "leaseRevoke": {
      const res = await server.lease.revoke(BigInt(req.id));
      return { revision: res.header.revision, result: { type: "leaseRevoke" } };
    }
  }
}

async function performOp(server: EtcdServer, op: RequestOp) {
  const s = toServerOp(op);
  if (s.requestRange) {
    const res = await server.kv.range(s.requestRange);
    return { revision: res.header.revision, result: fromResponseOp(op, { responseRange: res }) };
  }
  if (s.requestPut) {
    const res = await server.kv.put(s.requestPut);
    return { revision: res.header.revision, result: fromResponseOp(op, { responsePut: res }) };
  }
  const res = await server.kv.deleteRange(s.requestDeleteRange!);
  return {
    revision: res.header.revision,
    result: fromResponseOp(op, { responseDeleteRange: res }),
  };
}

/** The refusals that prove a request changed nothing; anything else leaves it unknown. */
export function definiteError(err: unknown): DefiniteError | undefined {
  if (err instanceof LeaseError) {
    if (err.reason === "notFound") return ErrLeaseNotFound;
    if (err.reason === "exists") return ErrLeaseExist;
  }
  const message = (err as Error)?.message ?? "";
  if (message.endsWith(ErrFutureRev.replace("etcdserver: ", ""))) return ErrFutureRev;
  if (message === ErrDuplicateKey) return ErrDuplicateKey;
  return undefined;
}
