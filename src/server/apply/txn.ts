// etcd's Txn apply. Every compare, nested ones included, is evaluated against the state
// before the txn (the taken path is fixed first); then the puts and ranges on that path are
// checked so that a failing txn changes nothing; then the ops run in one write txn, where
// later ops see earlier ones' writes and all changes share one revision.
import {
  compareBytes,
  type KeyValue,
  MvccError,
  type ReadTxn,
  type WriteTxn,
} from "../../mvcc/mod.ts";
import { LeaseError } from "../../lease/mod.ts";
import { Errors } from "../../errors/mod.ts";
import { doRange } from "./range.ts";
import {
  type Compare,
  CompareResult,
  CompareTarget,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KvApplyContext,
  type PutRequest,
  type PutResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "../kv_types.ts";

// The branch a txn takes, and the same for each nested txn on that branch, in order.
interface Path {
  succeeded: boolean;
  nested: Path[];
}

const EMPTY = new Uint8Array();
const ZERO_KV: KeyValue = {
  key: EMPTY,
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: EMPTY,
  lease: 0n,
};

function takenOps(req: TxnRequest, path: Path): RequestOp[] {
  return (path.succeeded ? req.success : req.failure) ?? [];
}

function comparePath(reads: ReadTxn, req: TxnRequest): Path {
  const succeeded = (req.compare ?? []).every((c) => applyCompare(reads, c));
  const path: Path = { succeeded, nested: [] };
  for (const op of takenOps(req, path)) {
    if (op.requestTxn) path.nested.push(comparePath(reads, op.requestTxn));
  }
  return path;
}

// Every key in the compare's range must satisfy it. No key: VALUE compares fail (a missing
// value cannot be told from an empty one), the others compare against zero.
function applyCompare(reads: ReadTxn, c: Compare): boolean {
  const { kvs } = reads.range(c.key, c.rangeEnd);
  if (kvs.length === 0) return c.target === CompareTarget.VALUE ? false : compareKv(c, ZERO_KV);
  return kvs.every((kv) => compareKv(c, kv));
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  let r: number;
  switch (c.target ?? CompareTarget.VERSION) {
    case CompareTarget.VERSION:
      r = Math.sign(kv.version - (c.version ?? 0));
      break;
    case CompareTarget.CREATE:
      r = Math.sign(kv.createRevision - (c.createRevision ?? 0));
      break;
    case CompareTarget.MOD:
      r = Math.sign(kv.modRevision - (c.modRevision ?? 0));
      break;
    case CompareTarget.VALUE:
      r = Math.sign(compareBytes(kv.value, c.value ?? EMPTY));
      break;
    case CompareTarget.LEASE: {
      const want = c.lease ?? 0n;
      r = kv.lease === want ? 0 : kv.lease > want ? 1 : -1;
      break;
    }
    default:
      r = 0;
  }
  switch (c.result ?? CompareResult.EQUAL) {
    case CompareResult.EQUAL:
      return r === 0;
    case CompareResult.NOT_EQUAL:
      return r !== 0;
    case CompareResult.GREATER:
      return r > 0;
    case CompareResult.LESS:
      return r < 0;
    default:
      return true;
  }
}

function forEachOnPath(req: TxnRequest, path: Path, f: (op: RequestOp) => void): void {
  let n = 0;
  for (const op of takenOps(req, path)) {
    if (op.requestTxn) forEachOnPath(op.requestTxn, path.nested[n++], f);
    else f(op);
  }
}

function isReadOnly(req: TxnRequest): boolean {
  const ro = (ops: RequestOp[] | undefined) =>
    (ops ?? []).every((op) =>
      !op.requestPut && !op.requestDeleteRange && (!op.requestTxn || isReadOnly(op.requestTxn))
    );
  return ro(req.success) && ro(req.failure);
}

// The failures etcd detects before writing, in its order: all puts, then all ranges.
function checkPath(ctx: KvApplyContext, reads: ReadTxn, req: TxnRequest, path: Path): void {
  if (!isReadOnly(req)) {
    forEachOnPath(req, path, (op) => {
      const p = op.requestPut;
      if (!p) return;
      if ((p.ignoreValue || p.ignoreLease) && reads.range(p.key).kvs.length === 0) {
        throw Errors.keyNotFound();
      }
      if (p.lease && p.lease !== 0n && !ctx.leases.leaseExists(p.lease)) {
        throw new LeaseError("notFound");
      }
    });
  }
  const rev = ctx.store.rev();
  const compactRev = ctx.store.compactRevision();
  forEachOnPath(req, path, (op) => {
    const revision = op.requestRange?.revision ?? 0;
    if (revision === 0) return;
    if (revision > rev) throw new MvccError("futureRev");
    if (revision < compactRev) throw new MvccError("compacted");
  });
}

export function applyTxn(ctx: KvApplyContext, req: TxnRequest): TxnResponse {
  // Compares and checks read in one read txn, as etcd's do; a read-only txn's ranges continue
  // it (which etcd's txn counters see).
  const reads = ctx.store.read();
  let path: Path;
  try {
    path = comparePath(reads, req);
    checkPath(ctx, reads, req, path);
  } catch (err) {
    reads.end();
    throw err;
  }
  const readOnly = isReadOnly(req);
  if (!readOnly) reads.end();
  const txn = ctx.store.write(readOnly ? reads.tally : undefined);
  let resp: TxnResponse;
  try {
    resp = runTxn(ctx, txn, req, path);
  } finally {
    txn.end();
  }
  resp.header.revision = txn.changes() > 0 ? txn.beginRev + 1 : txn.beginRev;
  return resp;
}

// Nested txn responses keep a zero header revision, as etcd leaves them.
function runTxn(ctx: KvApplyContext, txn: WriteTxn, req: TxnRequest, path: Path): TxnResponse {
  const responses: ResponseOp[] = [];
  let n = 0;
  for (const op of takenOps(req, path)) {
    if (op.requestRange) {
      responses.push({ responseRange: doRange((k, e, o) => txn.range(k, e, o), op.requestRange) });
    } else if (op.requestPut) {
      responses.push({ responsePut: putIn(ctx, txn, op.requestPut) });
    } else if (op.requestDeleteRange) {
      responses.push({ responseDeleteRange: deleteIn(ctx, txn, op.requestDeleteRange) });
    } else if (op.requestTxn) {
      responses.push({ responseTxn: runTxn(ctx, txn, op.requestTxn, path.nested[n++]) });
    } else {
      responses.push({});
    }
  }
  return { header: { revision: 0 }, succeeded: path.succeeded, responses };
}

// Put within a write txn; lease existence is the caller's check (it differs by context).
export function putIn(ctx: KvApplyContext, txn: WriteTxn, req: PutRequest): PutResponse {
  let value = req.value ?? EMPTY;
  let lease = req.lease ?? 0n;
  if (req.ignoreValue || req.ignoreLease) {
    const cur = txn.range(req.key, undefined).kvs[0];
    if (!cur) throw Errors.keyNotFound();
    if (req.ignoreValue) value = cur.value;
    if (req.ignoreLease) lease = cur.lease;
  } else if (req.prevKv) txn.tally.ranges++; // etcd reads the previous kv with a range first
  const withPrevKv = req.prevKv === true || ctx.watchersWantPrevKv();
  const { kv, prev, prevLease } = txn.put(req.key, value, lease, withPrevKv);
  if (prevLease !== 0n) ctx.leases.detachLease(prevLease, req.key);
  if (lease !== 0n) ctx.leases.attachLease(lease, req.key);
  const resp: PutResponse = { header: { revision: kv.modRevision } };
  if (req.prevKv && prev) resp.prevKv = prev;
  return resp;
}

export function deleteIn(
  ctx: KvApplyContext,
  txn: WriteTxn,
  req: DeleteRangeRequest,
): DeleteRangeResponse {
  if (req.prevKv) txn.tally.ranges++; // etcd reads the deleted kvs with a range first
  const deleted = txn.deleteRange(req.key, req.rangeEnd);
  for (const kv of deleted) {
    if (kv.lease !== 0n) ctx.leases.detachLease(kv.lease, kv.key);
  }
  return {
    header: { revision: txn.changes() > 0 ? txn.beginRev + 1 : txn.beginRev },
    deleted: deleted.length,
    prevKvs: req.prevKv ? deleted : [],
  };
}
