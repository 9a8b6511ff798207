// Fault runs of real etcd-ts processes (issue 17, items 2, 5 and 8): three members in network
// namespaces, clients recording their histories and watches in their own process in the hub,
// faults one at a time, and every record checked by tests/robustness's checkers.
//   faultRun(opts)       one run on a fresh cluster (deno task robustness: main.ts)
//   soak (soak.ts)       rounds on one cluster for as long as asked, with members' RSS
//   recheck.ts           a kept record checked again

export { FAULT_KINDS, type FaultKind, type FaultRecord } from "./faults.ts";
export { faultRun, type RunOptions, type RunReport } from "./fault_run.ts";
export { netSkipReason } from "./net.ts";
export { describeRound, describeTotals, failed, faultCounts } from "./report.ts";
