// Checks made before a request is proposed (etcd's api/v3rpc key.go): malformed requests are
// refused without touching raft. Everything here depends on the request alone.
import { Errors } from "../errors/mod.ts";
import { compareBytes } from "../mvcc/mod.ts";
import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from "./kv_types.ts";

export function validateRange(req: RangeRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
}

export function validatePut(req: PutRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
  if (req.ignoreValue && req.value && req.value.length > 0) throw Errors.valueProvided();
  if (req.ignoreLease && req.lease && req.lease !== 0n) throw Errors.leaseProvided();
}

export function validateDeleteRange(req: DeleteRangeRequest): void {
  if (req.key.length === 0) throw Errors.emptyKey();
}

// Size limits (ops per branch, nested txns sharing what their parent leaves), empty keys and
// ops, then keys written twice in one branch.
export function validateTxn(req: TxnRequest, maxTxnOps: number): void {
  checkTxn(req, maxTxnOps);
  checkIntervals(req.success ?? []);
  checkIntervals(req.failure ?? []);
}

function checkTxn(req: TxnRequest, maxTxnOps: number): void {
  const compare = req.compare ?? [];
  const success = req.success ?? [];
  const failure = req.failure ?? [];
  const opc = Math.max(compare.length, success.length, failure.length);
  if (opc > maxTxnOps) throw Errors.tooManyOps();
  for (const c of compare) if (c.key.length === 0) throw Errors.emptyKey();
  for (const op of success) checkOp(op, maxTxnOps - opc);
  for (const op of failure) checkOp(op, maxTxnOps - opc);
}

function checkOp(op: RequestOp, maxTxnOps: number): void {
  if (op.requestRange) validateRange(op.requestRange);
  else if (op.requestPut) validatePut(op.requestPut);
  else if (op.requestDeleteRange) validateDeleteRange(op.requestDeleteRange);
  else if (op.requestTxn) checkTxn(op.requestTxn, maxTxnOps);
  else throw Errors.keyNotFound(); // an op with no request in it
}

// A delete's key interval. etcd compares these as plain strings here, so a from-key delete
// (rangeEnd "\0") is an empty interval that overlaps no put; we keep that behaviour.
interface Interval {
  lo: Uint8Array;
  hi?: Uint8Array; // undefined: the single key lo
}

function hits(dels: Interval[], key: Uint8Array): boolean {
  for (const d of dels) {
    if (d.hi === undefined) {
      if (compareBytes(d.lo, key) === 0) return true;
    } else if (compareBytes(d.lo, key) <= 0 && compareBytes(key, d.hi) < 0) return true;
  }
  return false;
}

// One character per byte: a Map key that is equal exactly when the byte strings are.
function keyId(key: Uint8Array): string {
  let s = "";
  for (let i = 0; i < key.length; i += 8192) {
    s += String.fromCharCode(...key.subarray(i, i + 8192));
  }
  return s;
}

// Puts of one branch (with nested txns) must not repeat a key or fall inside one of its
// deletes; the two branches of a nested txn may put the same key, as only one runs.
function checkIntervals(ops: RequestOp[]): { puts: Map<string, Uint8Array>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of ops) {
    const d = op.requestDeleteRange;
    if (!d) continue;
    dels.push(d.rangeEnd && d.rangeEnd.length > 0 ? { lo: d.key, hi: d.rangeEnd } : { lo: d.key });
  }
  const puts = new Map<string, Uint8Array>();
  const add = (id: string, key: Uint8Array, allowed?: Map<string, Uint8Array>) => {
    if (puts.has(id) && !allowed?.has(id)) throw Errors.duplicateKey();
    if (hits(dels, key)) throw Errors.duplicateKey();
    puts.set(id, key);
  };
  for (const op of ops) {
    const t = op.requestTxn;
    if (!t) continue;
    const then = checkIntervals(t.success ?? []);
    const otherwise = checkIntervals(t.failure ?? []);
    for (const [id, key] of then.puts) add(id, key);
    for (const [id, key] of otherwise.puts) add(id, key, then.puts);
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    const p = op.requestPut;
    if (p) add(keyId(p.key), p.key);
  }
  return { puts, dels };
}
