// The apply path: committed entries in log order become changes of the member's state
// machines, one function per proposal kind, ordered by the Applier.
export {
  type AppliedState,
  Applier,
  type ApplierDeps,
  type ApplyOutcome,
  type ApplyTiming,
} from "./applier.ts";
export { type ApplyContext, leaseKeysOf } from "./context.ts";
export { announceCapabilities } from "./cluster.ts";
export { applyRange } from "./kv.ts";
export { applyTxn } from "./txn.ts";
