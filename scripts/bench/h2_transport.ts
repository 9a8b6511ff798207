// The client port's transport alone: an in-memory KV service (no Raft, no disk) behind
// serveClient in a child process, once per HTTP/2 implementation (ETCD_TS_HTTP2=node, lean),
// loaded by the lean client generator (load.ts) in this process. Prints requests/s and the
// server's CPU per request, so transport changes can be judged without the member's costs.
//   deno run -A scripts/bench/h2_transport.ts [--seconds N] [--connections N] [--inflight N]

import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { GrpcServer, serveClient } from "../../src/api/mod.ts";
import { runLoad } from "./load.ts";
import type { LoadConfig, LoadResult } from "./load_core.ts";
import { cpuSeconds } from "./procstat.ts";

const HOST = "127.0.70.9";
const PORT = 23790;

async function serve(): Promise<void> {
  const store = new Map<string, Uint8Array>();
  const td = new TextDecoder();
  const header = { clusterId: 1n, memberId: 1n, revision: 1, raftTerm: 1 };
  const grpc = new GrpcServer();
  grpc.addService("etcdserverpb.KV", {
    Put: (req) => {
      store.set(td.decode(req.key), req.value);
      return Promise.resolve({ header });
    },
    Range: (req) => {
      const value = store.get(td.decode(req.key));
      const kvs = value ? [{ key: req.key, value, createRevision: 1, modRevision: 1 }] : [];
      return Promise.resolve({ header, kvs, count: kvs.length });
    },
  });
  await serveClient(new URL(`http://${HOST}:${PORT}`), {
    grpc,
    http: () => Promise.resolve(new Response("", { status: 404 })),
  });
  process.stdout.write("ready\n");
}

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function measure(impl: string, workload: "put" | "range"): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(Deno.execPath(), ["run", "-A", self, "serve"], {
    env: { ...process.env, ETCD_TS_HTTP2: impl },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).once("line", () => resolve());
  });
  const cfg: LoadConfig = {
    endpoints: [{ host: HOST, port: PORT }],
    workload,
    seconds: flag("seconds", 5),
    warmupSeconds: 1,
    connections: flag("connections", 8),
    inflight: flag("inflight", 64),
    keySpace: 1000,
    valueSize: 256,
  };
  // ranges read keys that exist: each written once first
  if (workload === "range") await runLoad({ ...cfg, workload: "put", count: 1000 }, () => {});
  let cpuStart = 0;
  let result: LoadResult | undefined;
  await runLoad(cfg, (line) => {
    const ev = line as { event: string } & LoadResult;
    if (ev.event === "start") cpuStart = cpuSeconds(child.pid!) ?? 0;
    else result = ev;
  });
  const cpu = (cpuSeconds(child.pid!) ?? 0) - cpuStart;
  child.kill("SIGKILL");
  const r = result!;
  const rate = r.ops / r.elapsedSeconds;
  console.log(
    `${impl.padEnd(5)} ${workload.padEnd(6)} ${rate.toFixed(0).padStart(7)} req/s  ` +
      `server CPU ${(cpu / r.ops * 1e6).toFixed(1).padStart(6)} us/req  errors ${r.errors}`,
  );
}

if (process.argv[2] === "serve") {
  await serve();
} else {
  for (const workload of ["put", "range"] as const) {
    for (const impl of ["node", "lean"]) await measure(impl, workload);
  }
  process.exit(0);
}
