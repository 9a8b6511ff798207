// `deno task bench`'s command line.

import process from "node:process";
import type { TargetName } from "./servers.ts";

export const SUITES = ["core", "scaling", "memory"] as const;
export type SuiteName = typeof SUITES[number];

export interface Options {
  suites: SuiteName[];
  /** Only the cases whose "scenario: label" holds this text (--case). */
  cases?: string;
  seconds: number;
  windows: number;
  warmup: number;
  targets: TargetName[];
  /** Members per cluster in the core suite: 1 and 3 unless given. */
  members: number[];
  generator: "node" | "deno";
  connections: number;
  inflight: number;
  tls: boolean;
  /** Directory for CPU profiles of the etcd-ts members (one extra window per workload). */
  profile?: string;
  /** Directory the members' logs are copied to when the run ends (--logs). */
  logs?: string;
  /** Another etcd-ts checkout, benchmarked beside this one as "etcd-ts base". */
  baseline?: string;
  /** memory suite: keys preloaded before the wide ranges and the restarts. */
  keys: number;
  /** scaling suite: watch streams of the fan-out, leases kept alive. */
  watchers: number;
  leases: number;
}

export function usage(): string {
  return `usage: deno task bench [options]
  --suite core|scaling|memory|all  suites to run, comma-separated (default core)
      core     put, linearizable and serializable range on 1 and 3 members: throughput, p50/p99,
               CPU per op, GC share and longest pause, longest event-loop stall; peak RSS after
               the 10,000-key preload; what holds RSS after the preload and each case (etcd-ts's
               shares from its /metrics, etcd's go_memstats heap)
      scaling  one member: clients 1/16/64/256; values 256 B/4 KiB/64 KiB; compare-and-swap
               Txns on 10 hot keys; watch fan-out (one writer, --watchers streams: events
               delivered/s); --leases leases kept alive (CPU per keep-alive); puts and ranges
               over mutual TLS beside plain; the JSON gateway's put over HTTP/1.1 keep-alive
      memory   one member preloaded with --keys keys: RSS, ranges of 10,000 keys, clean restart
               (SIGTERM) and crash recovery (SIGKILL) times and RSS after each; what holds RSS
               at each of these moments, as in core
  --case TEXT                only the cases whose name ("scenario: label", as the table prints
                             it) holds TEXT, e.g. --case "JSON gateway"
  --seconds N                length of one measured window (default 3)
  --windows N                windows per target per case, alternating order (default 2)
  --warmup N                 seconds of unmeasured load before each window (default 1)
  --only etcd|etcd-ts        benchmark one target only
  --members N                members per cluster in the core suite (default 1 and 3)
  --generator node|deno      runtime of the load generator (default node)
  --connections N            HTTP/2 connections (default 8)
  --inflight N               requests in flight (default 64)
  --keys N                   memory suite: keys preloaded (default 100000; the full size is
                             --keys 1000000)
  --watchers N               scaling suite: watch streams (default 1000)
  --leases N                 scaling suite: leases kept alive (default 10000)
  --tls                      core suite: also run each target over mutual TLS (https, the guide's
                             client and peer TLS flags with client-cert-auth)
  --profile DIR              after the measured windows of a case, one more window per etcd-ts
                             cluster with a CPU profile of each member and an allocation sample
                             of its leader (--enable-pprof), written to DIR as
                             <case>-<target>[-followerN].cpuprofile and <case>-<target>.heapprofile
                             and summarised (allocations as bytes per op)
  --logs DIR                 copy the members' logs (etcd-ts's with V8's GC trace) to DIR at the
                             end
  --baseline DIR             also benchmark the etcd-ts checkout at DIR ("etcd-ts base"), in the
                             same alternating windows, to compare two versions in one run`;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    suites: ["core"],
    seconds: 3,
    windows: 2,
    warmup: 1,
    targets: ["etcd-ts", "etcd"],
    members: [1, 3],
    generator: "node",
    connections: 8,
    inflight: 64,
    tls: false,
    keys: 100_000,
    watchers: 1000,
    leases: 10_000,
  };
  const positive = (flag: string, v: string | undefined, integer = true): number => {
    const n = Number(v);
    if (v === undefined || !(n > 0) || (integer && !Number.isInteger(n))) {
      fail(`${flag} needs a positive ${integer ? "integer" : "number"}, got ${v ?? "nothing"}`);
    }
    return n;
  };
  const directory = (flag: string, v: string | undefined): string => {
    if (!v) fail(`${flag} needs a directory`);
    return v.replace(/\/$/, "");
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i], value: string | undefined;
    const eq = flag.indexOf("=");
    if (eq > 0) [flag, value] = [flag.slice(0, eq), flag.slice(eq + 1)];
    const next = () => value ?? argv[++i];
    switch (flag.replace(/^--?/, "--")) {
      case "--suite": {
        const v = next() ?? "";
        const names = v === "all" ? [...SUITES] : v.split(",");
        for (const n of names) {
          if (!SUITES.includes(n as SuiteName)) {
            fail(`--suite must be core, scaling, memory or all, got ${v}`);
          }
        }
        o.suites = names as SuiteName[];
        break;
      }
      case "--case":
        o.cases = next();
        if (!o.cases) fail("--case needs the text of a case's name");
        break;
      case "--logs":
        o.logs = next();
        if (!o.logs) fail("--logs needs a directory");
        break;
      case "--keys":
        o.keys = positive(flag, next());
        if (o.keys < 10_000) fail("--keys is at least 10000 (the ranges span 10,000 keys)");
        break;
      case "--watchers":
        o.watchers = positive(flag, next());
        break;
      case "--leases":
        o.leases = positive(flag, next());
        break;
      case "--seconds":
        o.seconds = positive(flag, next(), false);
        break;
      case "--windows":
        o.windows = positive(flag, next());
        break;
      case "--warmup":
        o.warmup = Number(next());
        if (!(o.warmup >= 0)) fail("--warmup needs a number of seconds");
        break;
      case "--only": {
        const v = next();
        if (v !== "etcd" && v !== "etcd-ts") fail(`--only must be etcd or etcd-ts, got ${v}`);
        o.targets = [v as TargetName];
        break;
      }
      case "--members":
        o.members = [positive(flag, next())];
        if (o.members[0] > 9) fail("--members is at most 9");
        break;
      case "--generator": {
        const v = next();
        if (v !== "node" && v !== "deno") fail(`--generator must be node or deno, got ${v}`);
        o.generator = v as "node" | "deno";
        break;
      }
      case "--connections":
        o.connections = positive(flag, next());
        break;
      case "--inflight":
        o.inflight = positive(flag, next());
        break;
      case "--tls":
        o.tls = true;
        break;
      case "--profile":
        o.profile = directory(flag, next());
        break;
      case "--baseline":
        o.baseline = directory(flag, next());
        break;
      case "--help":
        console.log(usage());
        process.exit(0);
        break;
      default:
        fail(`unknown option ${argv[i]}`);
    }
  }
  return o;
}

export function fail(msg: string): never {
  console.error(`bench: ${msg}\n${usage()}`);
  process.exit(2);
}
