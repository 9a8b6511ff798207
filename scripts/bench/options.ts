// `deno task bench`'s command line.

import process from "node:process";
import type { TargetName } from "./servers.ts";

export interface Options {
  workloads: ("put" | "range")[];
  seconds: number;
  windows: number;
  warmup: number;
  targets: TargetName[];
  members: number;
  generator: "node" | "deno";
  connections: number;
  inflight: number;
  tls: boolean;
  /** Directory for CPU profiles of the etcd-ts leader (one extra window per workload). */
  profile?: string;
  /** Another etcd-ts checkout, benchmarked beside this one as "etcd-ts base". */
  baseline?: string;
}

export function usage(): string {
  return `usage: deno task bench [options]
  --workload put|range|all   workloads to run (default all)
  --seconds N                length of one measured window (default 5)
  --windows N                windows per target per workload, alternating order (default 2)
  --warmup N                 seconds of unmeasured load before each window (default 1)
  --only etcd|etcd-ts        benchmark one target only
  --members N                members per cluster (default 1)
  --generator node|deno      runtime of the load generator (default node)
  --connections N            HTTP/2 connections (default 8)
  --inflight N               requests in flight (default 64)
  --tls                      also run each target over mutual TLS (https, the guide's client and
                             peer TLS flags with client-cert-auth, openssl-made certificates)
  --profile DIR              after the measured windows of a workload, one more window per
                             etcd-ts cluster with a CPU profile of its leader (--enable-pprof),
                             written to DIR as <workload>-<target>.cpuprofile and summarised
  --baseline DIR             also benchmark the etcd-ts checkout at DIR ("etcd-ts base"), in the
                             same alternating windows, to compare two versions in one run`;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    workloads: ["put", "range"],
    seconds: 5,
    windows: 2,
    warmup: 1,
    targets: ["etcd-ts", "etcd"],
    members: 1,
    generator: "node",
    connections: 8,
    inflight: 64,
    tls: false,
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
      case "--workload": {
        const v = next();
        if (v === "all") o.workloads = ["put", "range"];
        else if (v === "put" || v === "range") o.workloads = [v];
        else fail(`--workload must be put, range or all, got ${v}`);
        break;
      }
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
        o.members = positive(flag, next());
        if (o.members > 9) fail("--members is at most 9");
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
