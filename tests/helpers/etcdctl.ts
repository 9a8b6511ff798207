// etcdctl 3.4 (Debian's etcd-client), the real client of the integration tests: one runner for
// both APIs, on the host or inside a DNS namespace (dns.ts), to its end or left running.
import { type Proc, type Run, run, spawn } from "./process.ts";

/** Where etcdctl runs: the host, or a namespace whose DNS server it must resolve through. */
export interface Host {
  run(
    command: string,
    args: string[],
    opts: { env?: Record<string, string>; stdin?: string },
  ): Promise<Run>;
  spawn(command: string, args: string[], opts: { env?: Record<string, string> }): Proc;
}

export interface EtcdctlOptions {
  /** ETCDCTL_API: 3 by default, or 2. */
  api?: 2 | 3;
  /** Text on etcdctl's standard input (`txn`, a value too large for one argument). */
  stdin?: string;
  host?: Host;
}

export type Etcdctl = (endpoints: string, ...args: string[]) => Promise<Run>;

/** The command line: global flags, then `args`. An empty `endpoints` leaves --endpoints out
 * (--discovery-srv). v3 gets dial and command timeouts so a dead member fails a test instead of
 * hanging it; a later --command-timeout in `args` wins. */
function command(opts: EtcdctlOptions, endpoints: string, args: string[]) {
  const api = opts.api ?? 3;
  return {
    host: opts.host ?? { run, spawn },
    argv: [
      ...(endpoints === "" ? [] : [`--endpoints=${endpoints}`]),
      ...(api === 3 ? ["--dial-timeout=5s", "--command-timeout=10s"] : []),
      ...args,
    ],
    env: { ETCDCTL_API: String(api) },
  };
}

/** etcdctl run as `opts` say, to its end. */
export function etcdctlWith(opts: EtcdctlOptions): Etcdctl {
  return (endpoints, ...args) => {
    const c = command(opts, endpoints, args);
    return c.host.run("etcdctl", c.argv, { env: c.env, stdin: opts.stdin });
  };
}

/** etcdctl v3 on the host, to its end. */
export const etcdctl: Etcdctl = etcdctlWith({});

/**
 * A membership command (`member add`, `member remove`, ...) run until the member stops refusing
 * it with `unhealthy cluster`: etcd 3.4 and etcd-ts reconfigure only once connected to their
 * peers for 5 s (etcd's HealthInterval), so not right after a start.
 */
export async function reconfigure(endpoints: string, ...args: string[]): Promise<Run> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await etcdctl(endpoints, ...args);
    if (r.code === 0 || !r.stderr.includes("unhealthy cluster") || Date.now() > deadline) {
      return r;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** etcdctl left running (watch, exec-watch): its output lines come on the returned process. */
export function spawnEtcdctl(endpoints: string, args: string[], opts: EtcdctlOptions = {}): Proc {
  const c = command(opts, endpoints, args);
  return c.host.spawn("etcdctl", c.argv, { env: c.env });
}

export interface ListedMember {
  ID: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** `member list -w json` from `endpoint`: the cluster ID and the members by name. IDs are read
 * as digits, since JSON numbers lose precision above 2^53. */
export async function memberList(
  endpoint: string,
  opts: EtcdctlOptions = {},
): Promise<{ clusterId: bigint; members: ListedMember[] }> {
  const r = await etcdctlWith(opts)(endpoint, "member", "list", "-w", "json");
  if (r.code !== 0) throw new Error(`etcdctl member list: ${r.stderr}`);
  const body = JSON.parse(r.stdout.replace(/"(ID|cluster_id)":(\d+)/g, '"$1":"$2"'));
  const members = (body.members as (Omit<ListedMember, "ID"> & { ID: string })[])
    .map((m) => ({ ...m, ID: BigInt(m.ID) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { clusterId: BigInt(body.header.cluster_id), members };
}
