// A cluster of etcd-ts members as the guide starts them: one loopback address per member,
// etcd's ports, the same --initial-cluster on every member; http URLs, or https ones for the
// guide's TLS clusters (the TLS flags then come as `extra`).
import { memberFlags, type MemberURLs, type Proc, spawn, startEtcdTs, stop } from "./process.ts";
import { tempDir } from "./tmp.ts";
import { etcdctl } from "./etcdctl.ts";
import { assertPortsFree } from "./ports.ts";
import { Etcd3 } from "etcd3";

export interface ClusterMember extends MemberURLs {
  ip: string;
  dataDir: string;
  proc?: Proc;
}

export interface Cluster {
  members: ClusterMember[];
  initialCluster: string;
  endpoints: string;
  /** The flags the guide gives member `i` (static bootstrap, state new). */
  flags(i: number, extra?: string[]): string[];
  start(i: number, extra?: string[], env?: Record<string, string>): Proc;
  stopAll(): Promise<void>;
  /** The running member that became leader in a term above `afterTerm`, once one has. */
  leader(afterTerm?: number): Promise<{ member: ClusterMember; term: number }>;
}

export async function makeCluster(
  block: string,
  size: number,
  token = "etcd-cluster-1",
  /** `etcd`: real etcd 3.4 members (side-by-side tests); `firstHost`: first address (10). */
  opts: { scheme?: "http" | "https"; etcd?: boolean; firstHost?: number } = {},
): Promise<Cluster> {
  const scheme = opts.scheme ?? "http";
  const dir = tempDir().path;
  const members: ClusterMember[] = [];
  for (let i = 0; i < size; i++) {
    const ip = `${block}.${(opts.firstHost ?? 10) + i}`;
    await assertPortsFree(ip, [2379, 2380]);
    members.push({
      name: `infra${i}`,
      ip,
      clientURL: `${scheme}://${ip}:2379`,
      peerURL: `${scheme}://${ip}:2380`,
      dataDir: `${dir}/infra${i}`,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerURL}`).join(",");
  const cluster: Cluster = {
    members,
    initialCluster,
    endpoints: members.map((m) => m.clientURL).join(","),
    flags: (i, extra = []) => [
      ...memberFlags(members[i]),
      "--initial-cluster-token",
      token,
      "--initial-cluster",
      initialCluster,
      "--initial-cluster-state",
      "new",
      ...extra,
    ],
    start: (i, extra = [], env) => {
      const args = cluster.flags(i, extra);
      const p = opts.etcd ? spawn("etcd", args, { env }) : startEtcdTs(args, { env });
      members[i].proc = p;
      return p;
    },
    stopAll: async () => {
      await Promise.all(members.map((m) => m.proc ? stop(m.proc) : undefined));
    },
    leader: async (afterTerm = 0) => {
      const live = members.filter((m) => m.proc);
      const termOf = (line: string) => Number(/became leader at term (\d+)/.exec(line)?.[1] ?? 0);
      const line = await Promise.any(
        live.map((m) => m.proc!.waitFor((l) => termOf(l) > afterTerm, 30_000)),
      );
      const term = termOf(line);
      const member = live.find((m) => m.proc!.lines.some((l) => termOf(l) === term))!;
      return { member, term };
    },
  };
  return cluster;
}

/** Waits until every started member serves clients. */
export async function readyAll(c: Cluster): Promise<void> {
  await Promise.all(
    c.members.filter((m) => m.proc).map((m) => m.proc!.waitFor("ready to serve client requests")),
  );
}

/** Starts `m` as etcdctl's `member add` output says: joining the running cluster. */
export function startJoining(m: ClusterMember, initialCluster: string): Proc {
  m.proc = startEtcdTs([
    ...memberFlags(m),
    "--initial-cluster",
    initialCluster,
    "--initial-cluster-state",
    "existing",
  ]);
  return m.proc;
}

/** `etcdctl member add` of `m` as a learner through `endpoints`: etcdctl's output, the new ID,
 * the cluster ID and the ETCD_INITIAL_CLUSTER it prints for the newcomer. */
export async function addLearner(endpoints: string, m: ClusterMember) {
  const add = await etcdctl(
    endpoints,
    "member",
    "add",
    m.name,
    `--peer-urls=${m.peerURL}`,
    "--learner",
  );
  const ids = /^Member +([0-9a-f]+) added to cluster +([0-9a-f]+)/m.exec(add.stdout);
  const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(add.stdout);
  if (add.code !== 0 || !ids || !initialCluster) {
    throw new Error(`member add ${m.name}: ${add.stdout}${add.stderr}`);
  }
  return { output: add.stdout, id: ids[1], clusterId: ids[2], initialCluster: initialCluster[1] };
}

// More than snapshot-count + the 5000 entries kept for catch-up: the log is compacted past
// where a member that missed them could start from.
export async function writeBeyondCatchUp(endpoints: string[]): Promise<void> {
  const client = new Etcd3({ hosts: endpoints });
  try {
    for (let batch = 0; batch < 60; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => client.put(`s${batch * 100 + i}`).value("x")),
      );
    }
  } finally {
    client.close();
  }
}

/** The keys writeBeyondCatchUp() wrote, counted by a serializable read: from the member's own
 * (perhaps restored) backend. */
export async function localKeyCount(m: ClusterMember): Promise<number> {
  const res = await etcdctl(
    m.clientURL,
    "get",
    "s",
    "--prefix",
    "--keys-only",
    "-w",
    "json",
    "--consistency=s",
  );
  return JSON.parse(res.stdout).count ?? 0;
}
