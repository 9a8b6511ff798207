// The members of a fault run, each in its namespace on etcd's ports, and what the fault
// injector asks of them: signals, restarts, leader transfer, removal and re-addition. Cluster
// requests go through etcdctl 3.4 run in the hub namespace, as an operator would type them.

import { etcdctlWith, type Host } from "../../helpers/etcdctl.ts";
import { memberFlags, run, spawn } from "../../helpers/process.ts";
import { sleep } from "../../helpers/wait.ts";
import { MemberProcess } from "./member.ts";
import type { Network } from "./net.ts";

export interface Member {
  index: number;
  name: string;
  clientURL: string;
  peerURL: string;
  dataDir: string;
  /** The flags that place it in the cluster: the bootstrap's, or those `member add` printed. */
  join: string[];
  proc?: MemberProcess;
  /** Processes started for this member, restarts included. */
  starts: number;
  /** Removed from the cluster and not added back yet. */
  removed?: boolean;
}

/** A member as `member list -w json` shows it. */
export interface Listed {
  ID: bigint;
  name: string;
  peerURLs: string[];
  isLearner: boolean;
}

export interface EndpointStatus {
  index: number;
  id: bigint;
  leader: bigint;
  revision: number;
  term: number;
}

export interface ClusterOptions {
  /** --snapshot-count: low enough that a re-added member is sent a snapshot. */
  snapshotCount: number;
}

const READY = /ready to serve client requests/;

export class Cluster {
  readonly members: Member[];
  readonly endpoints: string;
  private readonly ctl;

  constructor(readonly net: Network, readonly dir: string, readonly opts: ClusterOptions) {
    this.members = Array.from({ length: net.size }, (_, i) => {
      const ip = net.ip(i);
      return {
        index: i,
        name: `m${i}`,
        clientURL: `http://${ip}:2379`,
        peerURL: `http://${ip}:2380`,
        dataDir: `${dir}/m${i}.0`,
        join: [],
        starts: 0,
      };
    });
    const initial = this.members.map((m) => `${m.name}=${m.peerURL}`).join(",");
    for (const m of this.members) {
      m.join = ["--initial-cluster", initial, "--initial-cluster-state", "new"];
    }
    this.endpoints = this.members.map((m) => m.clientURL).join(",");
    const host: Host = {
      run: (command, args, o) => run("ip", ["netns", "exec", net.hub, command, ...args], o),
      spawn: (command, args, o) => spawn("ip", ["netns", "exec", net.hub, command, ...args], o),
    };
    this.ctl = etcdctlWith({ host });
  }

  /** Starts every member and waits until each serves clients. */
  async startAll(): Promise<void> {
    await Promise.all(this.members.map((m) => this.start(m.index)));
  }

  /** Starts member `i` on its data dir; resolves once it serves clients. */
  async start(i: number, env: Record<string, string> = {}): Promise<MemberProcess> {
    const m = this.members[i];
    const args = [
      ...memberFlags(m),
      "--initial-cluster-token",
      this.net.id,
      "--snapshot-count",
      String(this.opts.snapshotCount),
      ...m.join,
    ];
    m.starts++;
    const proc = new MemberProcess(this.net.ns(i), args, `${this.dir}/${m.name}.log`, env);
    m.proc = proc;
    await proc.waitFor(READY, 60_000);
    return proc;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(i: number, graceMs = 10_000): Promise<void> {
    const proc = this.members[i].proc;
    if (!proc) return;
    proc.signal("SIGCONT");
    proc.signal("SIGTERM");
    const timer = setTimeout(() => proc.signal("SIGKILL"), graceMs);
    await proc.status;
    clearTimeout(timer);
    this.members[i].proc = undefined;
  }

  async kill(i: number): Promise<void> {
    const proc = this.members[i].proc;
    if (!proc) return;
    proc.signal("SIGKILL");
    await proc.status;
    this.members[i].proc = undefined;
  }

  /** etcdctl from the hub, against every endpoint unless `--endpoints` is among `args`. */
  async etcdctl(...args: string[]): Promise<string> {
    const own = args.find((a) => a.startsWith("--endpoints="));
    const endpoints = own ? own.slice("--endpoints=".length) : this.endpoints;
    const r = await this.ctl(endpoints, ...args.filter((a) => a !== own));
    if (r.code !== 0) throw new Error(`etcdctl ${args.join(" ")}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** `endpoint status` of the members that answer. IDs read as digits (JSON loses them). */
  async status(): Promise<EndpointStatus[]> {
    const r = await this.ctl(this.endpoints, "endpoint", "status", "-w", "json");
    const text = r.stdout.replace(/"(member_id|leader|cluster_id)":(\d+)/g, '"$1":"$2"');
    const list = text.trim() ? JSON.parse(text) : [];
    // deno-lint-ignore no-explicit-any
    return list.map((e: any) => ({
      index: this.members.findIndex((m) => m.clientURL === e.Endpoint),
      id: BigInt(e.Status.header.member_id),
      leader: BigInt(e.Status.leader ?? 0),
      revision: Number(e.Status.header.revision ?? 0),
      term: Number(e.Status.raftTerm ?? 0),
    }));
  }

  /** The member every answering member names as leader, once they agree. */
  async leader(timeoutMs = 30_000): Promise<{ index: number; statuses: EndpointStatus[] }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await this.status();
      const leaders = new Set(statuses.map((s) => s.leader));
      const index = statuses.find((s) => s.id === statuses[0]?.leader)?.index;
      if (leaders.size === 1 && index !== undefined) return { index, statuses };
      if (Date.now() > deadline) {
        throw new Error(`no agreed leader: ${JSON.stringify(statuses, bigints)}`);
      }
      await sleep(250);
    }
  }

  /** Waits until every member serves a linearizable read (`endpoint health`). */
  async healthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.ctl(this.endpoints, "endpoint", "health", "--command-timeout=3s");
      if (r.code === 0) return;
      if (Date.now() > deadline) throw new Error(`cluster not healthy: ${r.stderr.trim()}`);
      await sleep(250);
    }
  }

  /** `member list` through `endpoints` (all by default). IDs read as digits. */
  async memberList(endpoints = this.endpoints): Promise<Listed[]> {
    const out = await this.etcdctl(`--endpoints=${endpoints}`, "member", "list", "-w", "json");
    const body = JSON.parse(out.replace(/"(ID|cluster_id)":(\d+)/g, '"$1":"$2"'));
    // deno-lint-ignore no-explicit-any
    return body.members.map((m: any) => ({ ...m, ID: BigInt(m.ID), isLearner: !!m.isLearner }));
  }

  async memberIds(): Promise<Map<string, bigint>> {
    return new Map((await this.memberList()).map((m) => [m.name, m.ID]));
  }

  /** Hands leadership to member `to` (etcdctl finds the current leader among the endpoints). */
  async moveLeader(to: number): Promise<void> {
    const id = (await this.memberIds()).get(this.members[to].name);
    if (id === undefined) throw new Error(`${this.members[to].name} is not a member`);
    await this.etcdctl("move-leader", id.toString(16));
  }

  /**
   * Removes member `i`, stops it, and adds it back as a new learner on a fresh data dir (as
   * `member add` says), then promotes it once it has caught up.
   */
  async replace(i: number): Promise<void> {
    await this.remove(i);
    await this.addBack(i);
  }

  /** Removes member `i` from the cluster and stops it; it stays out until `addBack`. */
  async remove(i: number): Promise<void> {
    const m = this.members[i], others = this.others(i);
    const listed = (await this.memberList(others)).find((x) => x.peerURLs.includes(m.peerURL));
    if (listed) {
      // Through the leader: etcd-ts's quorum check refuses a removal a follower is asked for.
      await this.untilAccepted(
        () => this.leaderURL(),
        ["member", "remove", listed.ID.toString(16)],
        async () => !(await this.memberList(others)).some((x) => x.ID === listed.ID),
      );
    }
    m.removed = true;
    await this.stop(i);
  }

  /** Adds a removed member `i` back as a learner on an empty data dir, and promotes it. */
  async addBack(i: number): Promise<void> {
    const m = this.members[i], others = this.others(i);
    const mine = async () =>
      (await this.memberList(others)).find((x) => x.peerURLs.includes(m.peerURL));
    if (!await mine()) {
      const add = ["member", "add", m.name, `--peer-urls=${m.peerURL}`, "--learner"];
      await this.untilAccepted(() => Promise.resolve(others), add, async () => !!await mine());
    }
    const listed = await this.memberList(others);
    const initial = listed.map((x) => `${x.name || m.name}=${x.peerURLs[0]}`).join(",");
    m.dataDir = `${this.dir}/${m.name}.${m.starts}`;
    m.join = ["--initial-cluster", initial, "--initial-cluster-state", "existing"];
    m.removed = false;
    await this.start(i);
    const id = (await mine())!.ID.toString(16);
    await this.untilAccepted(
      () => Promise.resolve(others),
      ["member", "promote", id],
      async () => (await mine())?.isLearner === false,
    );
  }

  private others(i: number): string {
    return this.members.filter((o) => o.index !== i).map((o) => o.clientURL).join(",");
  }

  /** The leader's client URL, or every endpoint while no leader is agreed. */
  private async leaderURL(): Promise<string> {
    try {
      return this.members[(await this.leader(5_000)).index].clientURL;
    } catch {
      return this.endpoints;
    }
  }

  /**
   * A membership change etcd may refuse for a while (removal while a member is not yet active
   * again: "unhealthy cluster"; promotion of a learner that lags), or answer with an error
   * after all applying it: asked until it is `done`.
   */
  private async untilAccepted(
    endpoints: () => Promise<string>,
    args: string[],
    done: () => Promise<boolean>,
  ): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await this.ctl(await endpoints(), ...args);
      if (r.code === 0 || await done().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`etcdctl ${args.join(" ")}: ${r.stderr.trim()}`);
      await sleep(500);
    }
  }

  /** Each running member's resident memory, by name. */
  rss(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.members) {
      const bytes = m.proc?.rss();
      if (bytes !== undefined) out.set(m.name, bytes);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => this.stop(m.index, 3_000)));
  }
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString(16) : value;
}
