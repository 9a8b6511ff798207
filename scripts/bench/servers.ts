// Starting, restarting and stopping the benchmarked clusters: etcd-ts (scripts/etcd-ts) and etcd
// 3.4, with the same flags, on loopback addresses, in temporary data dirs; plain http, or https
// with the guide's client and peer TLS flags (client-cert-auth on both ports). etcd-ts members
// print V8's garbage collections (--trace-gc) to their log, and with `inspect` run deno directly
// with its inspector on the member's address.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as net from "node:net";
import process from "node:process";
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
  /** host:port of the V8 inspector (etcd-ts started with `inspect`). */
  inspector?: string;
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

/** Not etcd's default ports: members others start on 0.0.0.0:2379 must not collide. */
export const CLIENT_PORT = 32379;
export const PEER_PORT = 32380;
export const INSPECTOR_PORT = 32229;

const repo = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/** etcd-ts's command: the launcher, or with an inspector deno itself (what the launcher execs). */
function memberCommand(target: TargetName, exe: string, host: string, inspect: boolean): string[] {
  if (target !== "etcd-ts" || !inspect) return [exe];
  return [
    process.execPath,
    "run",
    "-A",
    "--cached-only",
    "--quiet",
    `--inspect=${host}:${INSPECTOR_PORT}`,
    "--config",
    `${repo}/deno.json`,
    `${repo}/main.ts`,
  ]; // deno-fmt-ignore
}

/** Spawns a member's command with its output appended to its log. */
function spawnMember(command: string[], logFile: string, append: boolean): ChildProcess {
  const fd = openSync(logFile, append ? "a" : "w");
  const gcFlags = [process.env.DENO_V8_FLAGS, "--trace-gc"].filter(Boolean).join(",");
  const child = spawn(command[0], command.slice(1), {
    stdio: ["ignore", fd, fd],
    env: { ...process.env, DENO_V8_FLAGS: gcFlags },
  });
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

/** Starts a cluster of `hosts.length` members, one per loopback address, and waits until a
 * linearizable Range succeeds on every member. */
export async function startCluster(
  target: TargetName,
  executable: string,
  hosts: string[],
  dataRoot: string,
  opts: { tls?: ClusterTLS; inspect?: boolean } = {},
): Promise<Cluster> {
  const tls = opts.tls;
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
      ...(tls ? guideTLSFlags(tls.ca, tls.member(i)) : []),
    ]; // prettier-ignore
    const logFile = `${dataRoot}/${names[i]}.log`;
    const inspect = target === "etcd-ts" && opts.inspect === true;
    const command = [...memberCommand(target, executable, host, inspect), ...args];
    const child = spawnMember(command, logFile, false);
    return {
      name: names[i],
      host,
      clientPort: CLIENT_PORT,
      process: child,
      pid: child.pid!,
      logFile,
      command,
      inspector: inspect ? `${host}:${INSPECTOR_PORT}` : undefined,
    };
  });
  const cluster: Cluster = { target, members, clientTLS: tls?.client };
  try {
    await Promise.all(members.map((m) => waitReady(m, tls?.client)));
  } catch (e) {
    await stopCluster(cluster);
    throw e;
  }
  return cluster;
}

async function waitReady(
  m: Member,
  tls?: ClientTLSFiles,
  timeoutMs = 60_000,
  pollMs = 200,
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
  m.process = spawnMember(m.command, m.logFile, true);
  m.pid = m.process.pid!;
  await waitReady(m, tls, 600_000, 20);
  return performance.now() - start;
}

/** SIGTERM, then SIGKILL for members still running after 10 s. */
export async function stopCluster(c: Cluster): Promise<void> {
  await Promise.all(c.members.map((m) => stopMember(m, "SIGTERM")));
}
