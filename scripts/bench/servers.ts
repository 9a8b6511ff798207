// Starting, restarting and stopping the benchmarked clusters: etcd-ts (scripts/etcd-ts) and etcd
// 3.4, with the same flags, on loopback addresses, in temporary data dirs; plain http, or https
// with the guide's client and peer TLS flags (client-cert-auth on both ports). etcd-ts members
// report their event-loop stalls (ETCD_TS_STALL_LOG) and print V8's garbage collections
// (--trace-gc) to their log.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import * as net from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { connect, unaryCall } from "../../tests/support/h2/mod.ts";
import { guideTLSFlags, type KeyPair } from "../../tests/helpers/certs.ts";
import { encodeRangeRequest } from "./pb.ts";
import { type ClientTLSFiles, clientTLSOptions } from "./tls.ts";

export type TargetName = "etcd-ts" | "etcd";

export interface Member {
  name: string;
  host: string;
  clientPort: number;
  process: ChildProcess;
  pid: number;
  logFile: string;
  /** How it was started: a restart runs the same command on the same data dir. */
  command: string[];
  /** Its environment (etcd-ts: the stall log, --trace-gc). */
  env: Record<string, string | undefined>;
  /** Where an etcd-ts member reports its event-loop stalls (ETCD_TS_STALL_LOG). */
  stallLog?: string;
}

export interface Cluster {
  target: TargetName;
  members: Member[];
  /** How clients reach the members over mutual TLS; undefined for plain http. */
  clientTLS?: ClientTLSFiles;
}

/** Certificates for a TLS cluster: the CA both ports trust, member i's pair, the client's. */
export interface ClusterTLS {
  ca: string;
  member(i: number): KeyPair;
  client: ClientTLSFiles;
}

/** This checkout's root: its scripts/etcd-ts is the etcd-ts the bench runs by default. */
export const REPO = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/** Not etcd's default ports: members others start on 0.0.0.0:2379 must not collide. */
export const CLIENT_PORT = 32379;
export const PEER_PORT = 32380;

/** A member's environment: etcd-ts's stall log; each runtime's GC trace in the member's log. */
function memberEnv(target: TargetName, stallLog?: string): Record<string, string | undefined> {
  if (target !== "etcd-ts") return { ...process.env, GODEBUG: "gctrace=1" };
  const gcFlags = [process.env.DENO_V8_FLAGS, "--trace-gc"].filter(Boolean).join(",");
  return { ...process.env, ETCD_TS_STALL_LOG: stallLog, DENO_V8_FLAGS: gcFlags };
}

/** Spawns a member's command with its output written (or appended) to its log. */
function spawnMember(m: Pick<Member, "command" | "env" | "logFile">, append: boolean) {
  const fd = openSync(m.logFile, append ? "a" : "w");
  const child = spawn(m.command[0], m.command.slice(1), { stdio: ["ignore", fd, fd], env: m.env });
  closeSync(fd);
  return child;
}

/** The executable for a target, or why it cannot run here. */
export function findExecutable(target: TargetName, repo: string): string | { missing: string } {
  if (target === "etcd-ts") {
    const script = `${repo}/scripts/etcd-ts`;
    if (!existsSync(script)) return { missing: `${script} does not exist yet` };
    if (!existsSync(`${repo}/main.ts`)) return { missing: `${repo}/main.ts does not exist yet` };
    return script;
  }
  for (const dir of (process.env.PATH ?? "/usr/bin").split(":")) {
    const p = `${dir}/etcd`;
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return { missing: "etcd is not installed" };
}

/** True when something accepts connections on host:port. */
function inUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** How a cluster is started: over TLS, with --enable-pprof, how often readiness is polled. */
export interface StartOptions {
  tls?: ClusterTLS;
  pprof?: boolean;
  pollMs?: number;
}

/** Starts a cluster of `hosts.length` members, one per loopback address, and waits until a
 * linearizable Range succeeds on every member. etcd-ts members report their event-loop stalls. */
export async function startCluster(
  target: TargetName,
  executable: string,
  hosts: string[],
  dataRoot: string,
  { tls, pprof = false, pollMs = 200 }: StartOptions = {},
): Promise<Cluster> {
  for (const host of hosts) {
    for (const port of [CLIENT_PORT, PEER_PORT]) {
      if (await inUse(host, port)) throw new Error(`${host}:${port} is already in use`);
    }
  }
  const names = hosts.map((_, i) => `bench${i}`);
  const scheme = tls ? "https" : "http";
  const initialCluster = hosts.map((h, i) => `${names[i]}=${scheme}://${h}:${PEER_PORT}`)
    .join(",");
  const members: Member[] = hosts.map((host, i) => {
    const client = `${scheme}://${host}:${CLIENT_PORT}`;
    const peer = `${scheme}://${host}:${PEER_PORT}`;
    const args = [
      "--name",
      names[i],
      "--data-dir",
      `${dataRoot}/${names[i]}.etcd`,
      "--listen-client-urls",
      client,
      "--advertise-client-urls",
      client,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      initialCluster,
      "--initial-cluster-token",
      `bench-${target}`,
      "--initial-cluster-state",
      "new",
      // The scaling suite writes GiBs of history (64 KiB values) that nothing compacts: past
      // the 2 GiB default the faster target would hit NOSPACE first. 8 GiB, etcd's suggested
      // maximum, for both.
      "--quota-backend-bytes",
      String(8 * 1024 ** 3),
      ...(tls ? guideTLSFlags(tls.ca, tls.member(i)) : []),
      ...(pprof ? ["--enable-pprof"] : []),
    ]; // prettier-ignore
    const logFile = `${dataRoot}/${names[i]}.log`;
    const stallLog = target === "etcd-ts" ? `${dataRoot}/${names[i]}.stalls` : undefined;
    // V8 prints its GC trace with stdio, block-buffered into a file: line-buffer it (stdbuf
    // execs the member, whose PID stays the one spawned).
    const command = target === "etcd-ts" ? ["stdbuf", "-oL", executable] : [executable];
    const spec = { command: [...command, ...args], env: memberEnv(target, stallLog), logFile };
    const child = spawnMember(spec, false);
    return {
      name: names[i],
      host,
      clientPort: CLIENT_PORT,
      process: child,
      pid: child.pid!,
      ...spec,
      stallLog,
    };
  });
  const cluster: Cluster = { target, members, clientTLS: tls?.client };
  try {
    await Promise.all(members.map((m) => waitReady(m, pollMs, tls?.client)));
  } catch (e) {
    await stopCluster(cluster);
    throw e;
  }
  return cluster;
}

async function waitReady(
  m: Member,
  pollMs: number,
  tls?: ClientTLSFiles,
  timeoutMs = 600_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (m.process.exitCode !== null || m.process.signalCode !== null) {
      throw new Error(`${m.name} exited during start-up; log tail:\n${tail(m.logFile)}`);
    }
    try {
      const conn = await connect({
        host: m.host,
        port: m.clientPort,
        connectTimeoutMs: 1000,
        tls: tls && clientTLSOptions(tls),
      });
      try {
        await unaryCall(
          conn,
          "/etcdserverpb.KV/Range",
          encodeRangeRequest({
            key: new TextEncoder().encode("health"),
          }),
          { timeoutMs: 2000 },
        );
        return;
      } finally {
        conn.destroy();
      }
    } catch (e) {
      last = String((e as Error)?.message ?? e);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(
    `${m.name} not ready after ${timeoutMs} ms (${last}); log tail:\n${tail(m.logFile)}`,
  );
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Stops a member with `signal`; SIGKILL when it still runs after 10 s. */
function stopMember(m: Member, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  return new Promise<void>((resolve) => {
    if (m.process.exitCode !== null || m.process.signalCode !== null) return resolve();
    const timer = setTimeout(() => m.process.kill("SIGKILL"), 10_000);
    m.process.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    m.process.kill(signal);
  });
}

/**
 * Stops member `m` (SIGTERM: a clean stop; SIGKILL: a crash), starts it again on its data dir and
 * resolves with the milliseconds from the new spawn until it answers a linearizable Range.
 */
export async function restartMember(
  m: Member,
  signal: "SIGTERM" | "SIGKILL",
  tls?: ClientTLSFiles,
): Promise<number> {
  await stopMember(m, signal);
  const start = performance.now();
  m.process = spawnMember(m, true);
  m.pid = m.process.pid!;
  await waitReady(m, 10, tls);
  return performance.now() - start;
}

/** SIGTERM, then SIGKILL for members still running after 10 s. */
export async function stopCluster(c: Cluster): Promise<void> {
  await Promise.all(c.members.map((m) => stopMember(m, "SIGTERM")));
}

/** Copies the members' logs (etcd-ts's carry V8's GC trace) under `workDir` to `dest`, in the
 * same layout: the --logs option. Data dirs stay behind. */
export function copyMemberLogs(workDir: string, dest: string): void {
  const keep = (src: string) => statSync(src).isDirectory() || src.endsWith(".log");
  cpSync(workDir, dest, { recursive: true, filter: keep });
}
