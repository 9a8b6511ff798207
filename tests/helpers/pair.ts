// A real etcd 3.4 and an etcd-ts member side by side, each alone in its cluster with the same
// flags, for tests that send both the same requests and compare the answers.
import { assertPortsFree } from "./ports.ts";
import { type Proc, singleMemberFlags, startReady, startReadyEtcd, stop } from "./process.ts";
import { tempDir } from "./tmp.ts";

export interface PairMember {
  ip: string;
  /** The client URL. */
  url: string;
  proc: Proc;
}

export interface Pair {
  /** etcd first, etcd-ts second. */
  members: readonly [PairMember, PairMember];
  stop(): Promise<void>;
}

/** etcd on `etcdIp` and etcd-ts on `tsIp` (etcd's ports), given `extra(ip)` each. */
export async function startPair(
  etcdIp: string,
  tsIp: string,
  extra: (ip: string) => string[] = () => [],
  scheme: "http" | "https" = "http",
): Promise<Pair> {
  for (const ip of [etcdIp, tsIp]) await assertPortsFree(ip, [2379, 2380]);
  const dir = tempDir({ prefix: "pair-" });
  const url = (ip: string) => `${scheme}://${ip}:2379`;
  const flags = (name: string, ip: string) => [
    ...singleMemberFlags(name, ip, `${dir.path}/${name}`).map((f) =>
      f === `http://${ip}:2379` ? url(ip) : f
    ),
    ...extra(ip),
  ];
  const started = await Promise.allSettled([
    startReadyEtcd(flags("e", etcdIp)),
    startReady(flags("t", tsIp)),
  ]);
  const [etcd, ts] = started.map((s) => s.status === "fulfilled" ? s.value : undefined);
  if (!etcd || !ts) {
    // The one that came up is stopped too: the caller gets neither.
    await Promise.all([etcd, ts].map((p) => p && stop(p)));
    await dir[Symbol.asyncDispose]();
    throw started.find((s) => s.status === "rejected")!.reason;
  }
  return {
    members: [{ ip: etcdIp, url: url(etcdIp), proc: etcd }, { ip: tsIp, url: url(tsIp), proc: ts }],
    stop: async () => {
      await Promise.all([stop(etcd), stop(ts)]);
      await dir[Symbol.asyncDispose]();
    },
  };
}
