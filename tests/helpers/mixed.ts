// Mixed clusters of etcd 3.4 and etcd-ts members on loopback: members of either kind started
// with the same flags, etcdctl's membership commands, the state `endpoint status` reports, a
// write load that follows the cluster's changing membership, and timed steps for the record.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { put } from "./acked_writes.ts";
import { etcdctl, reconfigure } from "./etcdctl.ts";
import { assertPortsFree } from "./ports.ts";
import { memberFlags, type Proc, spawn, startEtcdTs, stop } from "./process.ts";
import { sleep } from "./wait.ts";

export type Kind = "etcd" | "etcd-ts";

export interface MixedMember {
  name: string;
  kind: Kind;
  ip: string;
  clientURL: string;
  peerURL: string;
  dataDir: string;
  /** The guide's mutual TLS between peers: the directory of `ca.pem` and `<name>.pem/.key`. */
  peerTLS?: string;
  id?: bigint;
  proc?: Proc;
}

/** Entries between snapshots: low, so a member that misses a few thousand writes needs one. */
export const SNAPSHOT_COUNT = "1000";

export async function mixedMember(
  kind: Kind,
  name: string,
  ip: string,
  dir: string,
  peerTLS?: string,
): Promise<MixedMember> {
  await assertPortsFree(ip, [2379, 2380]);
  return {
    name,
    kind,
    ip,
    clientURL: `http://${ip}:2379`,
    peerURL: `${peerTLS ? "https" : "http"}://${ip}:2380`,
    dataDir: `${dir}/${name}`,
    peerTLS,
  };
}

function peerTLSFlags(m: MixedMember): string[] {
  if (!m.peerTLS) return [];
  return [
    `--peer-cert-file=${m.peerTLS}/${m.name}.pem`,
    `--peer-key-file=${m.peerTLS}/${m.name}.key`,
    `--peer-trusted-ca-file=${m.peerTLS}/ca.pem`,
    "--peer-client-cert-auth",
  ];
}

/** Starts `m` (its kind's binary) in `initialCluster`, new or existing; resolves once ready. */
export async function startMember(
  m: MixedMember,
  initialCluster: string,
  state: "new" | "existing",
): Promise<Proc> {
  const args = [
    ...memberFlags(m),
    "--initial-cluster",
    initialCluster,
    "--initial-cluster-state",
    state,
    "--initial-cluster-token",
    "mixed",
    "--snapshot-count",
    SNAPSHOT_COUNT,
    ...peerTLSFlags(m),
  ];
  m.proc = m.kind === "etcd" ? spawn("etcd", args) : startEtcdTs(args);
  await m.proc.waitFor("ready to serve client requests", 60_000);
  return m.proc;
}

/** Restarts a member from its data dir (the flags of a restart ignore the initial cluster). */
export async function restartMember(m: MixedMember): Promise<Proc> {
  return await startMember(m, `${m.name}=${m.peerURL}`, "existing");
}

export async function stopMember(m: MixedMember): Promise<void> {
  if (m.proc) await stop(m.proc);
  m.proc = undefined;
}

/** `etcdctl member add`: the new member's ID and the ETCD_INITIAL_CLUSTER it is to start with. */
export async function memberAdd(endpoints: string, m: MixedMember): Promise<string> {
  const r = await reconfigure(endpoints, "member", "add", m.name, `--peer-urls=${m.peerURL}`);
  const id = /^Member +([0-9a-f]+) added/m.exec(r.stdout);
  const initial = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(r.stdout);
  assert.ok(r.code === 0 && id && initial, `member add ${m.name}: ${r.stdout}${r.stderr}`);
  m.id = BigInt("0x" + id[1]);
  return initial[1];
}

export async function memberRemove(endpoints: string, m: MixedMember): Promise<void> {
  const r = await reconfigure(endpoints, "member", "remove", m.id!.toString(16));
  assert.equal(r.code, 0, `member remove ${m.name}: ${r.stderr}`);
}

export interface EndpointState {
  endpoint: string;
  memberId: bigint;
  leader: bigint;
  raftTerm: number;
  appliedIndex: number;
  revision: number;
  version: string;
}

/** `endpoint status -w json` of every endpoint (IDs read as digits: they exceed 2^53). */
export async function endpointStatus(endpoints: string): Promise<EndpointState[]> {
  const r = await etcdctl(endpoints, "endpoint", "status", "-w", "json");
  assert.equal(r.code, 0, `endpoint status: ${r.stderr}`);
  const rows = JSON.parse(r.stdout.replace(/"(member_id|leader|cluster_id)":(\d+)/g, '"$1":"$2"'));
  // deno-lint-ignore no-explicit-any
  return rows.map((row: any) => ({
    endpoint: row.Endpoint,
    memberId: BigInt(row.Status.header.member_id),
    leader: BigInt(row.Status.leader),
    raftTerm: row.Status.raft_term,
    appliedIndex: row.Status.raftAppliedIndex,
    revision: row.Status.header.revision,
    version: row.Status.version,
  }));
}

/** Polls until every member reports the same leader, and if `quiet`, the same applied index
 * and revision (nothing left to replicate). */
export async function converged(
  endpoints: string,
  quiet = true,
  ms = 60_000,
): Promise<EndpointState[]> {
  const deadline = Date.now() + ms;
  let last: EndpointState[] = [];
  while (Date.now() < deadline) {
    last = await endpointStatus(endpoints).catch(() => []);
    const one = (f: (s: EndpointState) => unknown) => new Set(last.map(f)).size === 1;
    const count = endpoints.split(",").length;
    if (last.length === count && last[0].leader !== 0n && one((s) => s.leader)) {
      if (!quiet || (one((s) => s.appliedIndex) && one((s) => s.revision))) return last;
    }
    await sleep(200);
  }
  throw new Error(`members did not converge: ${JSON.stringify(last, (_, v) => String(v))}`);
}

/** `endpoint hashkv` of every endpoint at `rev`: all must agree. */
export async function assertSameHashKV(endpoints: string, rev: number): Promise<string> {
  const r = await etcdctl(endpoints, "endpoint", "hashkv", `--rev=${rev}`);
  assert.equal(r.code, 0, `endpoint hashkv: ${r.stderr}`);
  const hashes = r.stdout.trim().split("\n").map((l) => l.split(", ")[1]);
  assert.equal(hashes.length, endpoints.split(",").length, r.stdout);
  assert.equal(new Set(hashes).size, 1, `HashKV differs:\n${r.stdout}`);
  return hashes[0];
}

/** `move-leader` to `to`, asked of the current leader; resolves when every member follows it. */
export async function moveLeader(endpoints: string, to: MixedMember): Promise<void> {
  const before = await converged(endpoints, false);
  const leader = before.find((s) => s.memberId === s.leader)!;
  const r = await etcdctl(leader.endpoint, "move-leader", to.id!.toString(16));
  assert.equal(r.code, 0, `move-leader: ${r.stderr}`);
  const after = await converged(endpoints, false);
  assert.equal(after[0].leader, to.id, `leader is ${after[0].leader.toString(16)}`);
}

/** A line in `m`'s log saying it applied a snapshot from its leader (same text in both). */
export const SNAPSHOT_APPLIED = /finished applying incoming snapshot at index \d+/;

/** Keys under `prefix` as a linearizable read through `endpoint` sees them. */
export async function readPrefix(endpoint: string, prefix: string) {
  const r = await etcdctl(endpoint, "get", prefix, "--prefix", "-w", "json");
  assert.equal(r.code, 0, `get ${prefix}: ${r.stderr}`);
  const body = JSON.parse(r.stdout);
  const text = (s: string) =>
    new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));
  // deno-lint-ignore no-explicit-any
  const kvs = (body.kvs ?? []).map((kv: any) => ({
    key: text(kv.key),
    value: text(kv.value),
    modRevision: kv.mod_revision as number,
  }));
  return { revision: body.header.revision as number, kvs };
}

/**
 * Writers of fresh keys `w/<writer>/<n>` through whichever member of `endpoints` answers (the
 * list changes as members come and go; a failed write moves to the next). A write counts only
 * when its answer arrived, and a retry is a new key, so nothing acknowledged is ever doubled.
 */
export class MovingLoad {
  readonly acked = new Map<string, { value: string; revision: number }>();
  failures = 0;
  #stopped = false;
  #loops: Promise<void>[];

  constructor(public endpoints: string[], count: number) {
    this.#loops = Array.from({ length: count }, (_, w) => this.#run(w));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }

  async #run(w: number): Promise<void> {
    let at = w;
    let session: http2.ClientHttp2Session | undefined;
    for (let n = 0; !this.#stopped; n++) {
      const endpoint = this.endpoints[at % this.endpoints.length];
      session ??= http2.connect(endpoint).on("error", () => {});
      const key = `w/${w}/${n}`;
      const value = `${w}.${n}.${crypto.randomUUID().slice(0, 8)}`;
      try {
        this.acked.set(key, { value, revision: await put(session, key, value) });
      } catch {
        this.failures++;
        session.destroy();
        session = undefined;
        at++;
        await sleep(50);
      }
    }
    session?.destroy();
  }

  /** Every acknowledged write is in the store read through `endpoint`, at its revision. */
  async check(endpoint: string): Promise<number> {
    const { kvs } = await readPrefix(endpoint, "w/");
    const byKey = new Map(kvs.map((kv: { key: string }) => [kv.key, kv]));
    for (const [key, a] of this.acked) {
      const kv = byKey.get(key) as { value: string; modRevision: number } | undefined;
      assert.ok(kv, `acknowledged write ${key} (revision ${a.revision}) is missing`);
      assert.equal(kv.value, a.value, `value of ${key}`);
      assert.equal(kv.modRevision, a.revision, `${key} acknowledged at another revision`);
    }
    return this.acked.size;
  }
}

/** Runs a step of the scenario and prints the time it took (the record the issue asks for). */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const out = await fn();
  console.log(`    step: ${name}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return out;
}
