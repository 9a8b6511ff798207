// What each suite measures, as stages: a stage starts one cluster per target of its shape
// (members, plain and/or mutual TLS), prepares it with counted loads (keys, leases), measures
// its cases in alternating windows, and may restart the member (the memory suite).

import type { LoadConfig } from "./load_core.ts";
import type { Options, SuiteName } from "./options.ts";

/** A workload measured on every cluster of its stage. */
export interface CaseSpec {
  scenario: string;
  label: string;
  /** What one op is. */
  unit: string;
  /** Overrides of the stage's load configuration. */
  load: Partial<LoadConfig>;
}

/** A counted load run once per cluster before the cases. */
export interface Prepare {
  what: string;
  load: Partial<LoadConfig> & { count: number };
  /** Record the members' RSS afterwards under this figure name. */
  rssFigure?: string;
}

export interface Stage {
  suite: SuiteName;
  members: number;
  /** Plain (false) and/or mutual TLS (true) clusters of each target. */
  tls: boolean[];
  prepare: Prepare[];
  cases: CaseSpec[];
  /** Stop and start the member again (SIGTERM, then SIGKILL), timing each. */
  restarts?: boolean;
  /** Read what holds each cluster's RSS wherever RSS is measured (memory_shares.ts). */
  memoryShares?: boolean;
}

/** Puts per Txn of a preload: below etcd's --max-txn-ops (128). */
const PRELOAD_BATCH = 100;
/** Keys preloaded for the core and scaling suites; puts and ranges draw from them. */
const KEYS = 10_000;

function preload(keys: number, rssFigure?: string): Prepare {
  return {
    what: `preload of ${keys} keys`,
    load: {
      workload: "preload",
      keySpace: keys,
      batch: PRELOAD_BATCH,
      count: Math.ceil(keys / PRELOAD_BATCH),
    },
    rssFigure,
  };
}

const membersLabel = (n: number) => n === 1 ? "1 member" : `${n} members`;

function core(opts: Options): Stage[] {
  return opts.members.map((members) => ({
    suite: "core",
    members,
    memoryShares: true,
    tls: opts.tls ? [false, true] : [false],
    prepare: [preload(KEYS, `peak RSS after the 10,000-key preload, ${membersLabel(members)}`)],
    cases: ([
      { scenario: "put", load: { workload: "put" }, unit: "puts" },
      { scenario: "linearizable range", load: { workload: "range" }, unit: "ranges" },
      { scenario: "serializable range", load: { workload: "range-serializable" }, unit: "ranges" },
    ] as const).map((c) => ({ ...c, label: membersLabel(members) })),
  }));
}

function scaling(opts: Options): Stage[] {
  const clients = [1, 16, 64, 256].map((n) => ({
    scenario: "clients",
    label: String(n),
    unit: "puts",
    load: { workload: "put" as const, inflight: n, connections: n },
  }));
  const values = [[256, "256 B"], [4096, "4 KiB"], [65536, "64 KiB"]] as const;
  const sizes = values.map(([size, label]) => ({
    scenario: "value size",
    label,
    unit: "puts",
    load: { workload: "put" as const, valueSize: size },
  }));
  const plain: Stage = {
    suite: "scaling",
    members: 1,
    tls: [false],
    prepare: [preload(KEYS), {
      what: `grant of ${opts.leases} leases`,
      load: { workload: "lease-grant", leases: opts.leases, count: opts.leases },
    }],
    cases: [...clients, ...sizes, {
      scenario: "compare-and-swap Txn",
      label: "10 hot keys",
      unit: "txns",
      load: { workload: "txn-cas", hotKeys: 10 },
    }, {
      scenario: "watch fan-out",
      label: `1 writer, ${opts.watchers} watchers`,
      unit: "events delivered",
      load: { workload: "watch", watchers: opts.watchers, inflight: 1 },
    }, {
      scenario: "lease keep-alive",
      label: `${opts.leases} leases`,
      unit: "keep-alives",
      load: { workload: "keepalive", leases: opts.leases },
    }, {
      scenario: "JSON gateway put",
      label: "HTTP/1.1 keep-alive, 16 clients",
      unit: "puts",
      load: { workload: "gateway-put", inflight: 16 },
    }],
  };
  const tls: Stage = {
    suite: "scaling",
    members: 1,
    tls: [false, true],
    prepare: [preload(KEYS)],
    cases: [
      { scenario: "TLS on the client port", label: "put", unit: "puts", load: { workload: "put" } },
      {
        scenario: "TLS on the client port",
        label: "linearizable range",
        unit: "ranges",
        load: { workload: "range" },
      },
    ],
  };
  return [plain, tls];
}

function memory(opts: Options): Stage[] {
  return [{
    suite: "memory",
    members: 1,
    memoryShares: true,
    tls: [false],
    prepare: [preload(opts.keys, `peak RSS after preloading ${opts.keys} keys`)],
    cases: [{
      scenario: `${opts.keys} keys`,
      label: "range of 10,000 keys",
      unit: "ranges",
      load: { workload: "range-10k", keySpace: opts.keys, inflight: 4, connections: 4 },
    }],
    restarts: true,
  }];
}

export function stages(opts: Options): Stage[] {
  const bySuite = { core, scaling, memory };
  const all = opts.suites.flatMap((s) => bySuite[s](opts));
  if (opts.cases === undefined) return all;
  // --case: only the cases whose name holds the text; a stage left with none is not started.
  const wanted = (c: CaseSpec) => `${c.scenario}: ${c.label}`.includes(opts.cases!);
  return all.map((s) => ({ ...s, cases: s.cases.filter(wanted) })).filter((s) =>
    s.cases.length > 0
  );
}

/** A case's load configuration on a cluster: the options', the case's, the endpoints. */
export function caseConfig(
  opts: Options,
  load: Partial<LoadConfig>,
  endpoints: LoadConfig["endpoints"],
  tls: LoadConfig["tls"],
): LoadConfig {
  return {
    endpoints,
    workload: "put",
    seconds: opts.seconds,
    warmupSeconds: opts.warmup,
    connections: opts.connections,
    inflight: opts.inflight,
    keySpace: KEYS,
    valueSize: 256,
    tls,
    ...load,
  };
}
