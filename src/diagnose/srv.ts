// `etcd-ts diagnose srv`: replays a member's DNS SRV bootstrap (spec/dns-srv.md) and explains
// every way it would fail — no records, this member not among the targets, scheme mismatch,
// certificates that the other members or clients would refuse — with the fix in plain words.
import { joinHostPort, srvServerCluster } from "../discovery/mod.ts";
import { checkInitialCluster, formatId } from "../server/mod.ts";
import { checkClients } from "./clients.ts";
import { explainNoRecords, explainNotAMember } from "./explain.ts";
import type { DiagnoseDeps, SrvDiagnosisInput } from "./input.ts";
import { checkPeers } from "./peers.ts";
import {
  bareTarget,
  cachedHosts,
  type HostLookup,
  matches,
  type PeerRecords,
  resolveURL,
  serviceRecords,
  showRecords,
} from "./records.ts";
import { Report } from "./report.ts";

/** The outcome of the member's own bootstrap: its initial cluster, or the error it exits with. */
interface Replay {
  initialCluster: { name: string; urls: string[] }[];
  etcdError?: string;
}

export async function diagnoseSrv(input: SrvDiagnosisInput, deps: DiagnoseDeps): Promise<Report> {
  const report = new Report();
  const hosts: HostLookup = cachedHosts(deps.resolver);
  report.section(`DNS SRV bootstrap of ${input.name} from ${input.domain}`);
  report.line(`nameserver: ${deps.resolver.server()}`);
  if (input.srvName !== "") report.line(`--discovery-srv-name: ${input.srvName}`);

  const peers = await serverRecords(report, input, deps, hosts);
  const replay = await replayBootstrap(input, deps);
  await explainRecordProblems(report, input, deps, peers, replay.etcdError);
  explainSchemeMismatch(report, peers, replay.etcdError);
  showThisMember(report, input, peers, replay);
  await checkPeers(report, input, deps, hosts, peers);
  await checkClients(report, input, deps, hosts);
  return report;
}

/** The advertised peer URLs and the server records, resolved and shown; which are this member. */
async function serverRecords(
  report: Report,
  input: SrvDiagnosisInput,
  deps: DiagnoseDeps,
  hosts: HostLookup,
): Promise<PeerRecords> {
  const advertised = await Promise.all(input.advertisePeerUrls.map((u) => resolveURL(hosts, u)));
  for (const u of advertised) {
    report.line(`advertised peer URL ${u.url} -> ${u.tcpAddr ?? `does not resolve (${u.error})`}`);
  }
  const servers = await serviceRecords(
    deps.resolver,
    hosts,
    "etcd-server",
    input.domain,
    input.srvName,
  );
  const own = matches(servers, advertised);
  report.section("server records (members bootstrap from these)");
  showRecords(report, servers, own, "this member");
  return { advertised, servers, own };
}

// The member's own algorithm gives the exact outcome and message.
async function replayBootstrap(input: SrvDiagnosisInput, deps: DiagnoseDeps): Promise<Replay> {
  try {
    const cluster = await srvServerCluster(input.domain, input.srvName, {
      resolver: deps.resolver,
      name: input.name,
      advertisePeerUrls: input.advertisePeerUrls,
    });
    const byName = new Map<string, string[]>();
    for (const e of cluster.entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e.url]);
    return { initialCluster: [...byName].map(([name, urls]) => ({ name, urls })) };
  } catch (err) {
    return {
      initialCluster: [],
      etcdError: `error setting up initial cluster: ${(err as Error).message}`,
    };
  }
}

/** Names that do not resolve, then why no record is this member (when all names resolve). */
async function explainRecordProblems(
  report: Report,
  input: SrvDiagnosisInput,
  deps: DiagnoseDeps,
  { advertised, servers, own }: PeerRecords,
  etcdError: string | undefined,
): Promise<void> {
  const unresolved = advertised.filter((u) => u.error !== undefined);
  for (const u of unresolved) {
    report.problem(`the advertised peer URL ${u.url} does not resolve`, [
      u.error!,
      `etcd-ts would exit with: ${etcdError ?? u.error}`,
    ], [
      `add an A record for ${u.host}, or advertise this machine's IP address instead`,
    ]);
  }
  for (const s of servers) {
    for (const r of s.records.filter((r) => r.error !== undefined)) {
      report.problem(`SRV target ${r.target} does not resolve`, [
        `${s.fqdn} names it, but ${r.error}`,
        "members skip this record, so that member is left out of the initial cluster",
      ], [`add an A record for ${bareTarget(r.target)}, or remove the record`]);
    }
  }
  // An unresolved advertised URL explains the failure already.
  if (unresolved.length > 0) return;
  const found = servers.some((s) => s.records.length > 0);
  const resolvable = servers.some((s) => s.records.some((r) => r.tcpAddr !== undefined));
  if (!found) {
    await explainNoRecords(report, input, deps, servers, advertised, etcdError);
  } else if (!resolvable && etcdError) {
    report.problems.at(-1)!.detail.push(`etcd-ts would exit with: ${etcdError}`);
  } else if (own.length === 0) {
    explainNotAMember(report, input, servers, advertised, etcdError);
  }
}

/** This member's record is under the https (-ssl) service but it advertises http, or the reverse. */
function explainSchemeMismatch(
  report: Report,
  { own }: PeerRecords,
  etcdError: string | undefined,
): void {
  for (const o of own) {
    if (o.advertised.scheme === o.service.scheme) continue;
    const target = `${joinHostPort(o.record.target, o.record.port)} of ${o.service.fqdn}`;
    report.problem(
      `this member's record is ${o.service.scheme} but it advertises ${o.advertised.scheme}`,
      [
        `${o.advertised.url} matches target ${target}`,
        `records under _etcd-server-ssl are https peers, under _etcd-server http peers`,
        ...(etcdError ? [`etcd-ts would exit with: ${etcdError}`] : []),
      ],
      [
        o.service.scheme === "https"
          ? "advertise and listen on https:// peer URLs with --peer-cert-file/--peer-key-file, " +
            "or move the record to _etcd-server._tcp"
          : "advertise http:// peer URLs, or move the records to _etcd-server-ssl._tcp",
      ],
    );
  }
}

/** This member's records, then the initial cluster and the IDs it would start with. */
function showThisMember(
  report: Report,
  input: SrvDiagnosisInput,
  { advertised, own }: PeerRecords,
  { initialCluster, etcdError }: Replay,
): void {
  if (own.length > 0) {
    report.section("this member");
    for (const o of own) {
      report.line(
        `${o.advertised.url} matches target ${
          joinHostPort(o.record.target, o.record.port)
        } of ${o.service.fqdn}`,
      );
    }
  }
  let ids: ReturnType<typeof checkInitialCluster> | undefined;
  if (etcdError === undefined) {
    // etcd compares the advertised URLs with its entry after resolution.
    const local = initialCluster.find((e) => e.name === input.name);
    const sameAddrs = local !== undefined && local.urls.length === advertised.length &&
      own.length === advertised.length;
    try {
      ids = checkInitialCluster(
        "etcd-ts",
        input.name,
        sameAddrs ? local.urls : input.advertisePeerUrls,
        initialCluster,
        input.initialClusterToken,
      );
    } catch (err) {
      etcdError = (err as Error).message;
      report.problem("the advertised peer URLs differ from this member's SRV records", [
        `etcd-ts would exit with: ${etcdError}`,
      ], ["advertise exactly one peer URL per SRV record of this member"]);
    }
  }
  if (ids) {
    const text = initialCluster.flatMap((e) => e.urls.map((u) => `${e.name}=${u}`)).join(",");
    report.line(`initial cluster: ${text}`);
    report.line(
      `member ID ${formatId(ids.localId)}, cluster ID ${formatId(ids.clusterId)} ` +
        `(token ${input.initialClusterToken})`,
    );
  } else if (etcdError !== undefined && report.problems.length === 0) {
    report.problem("the SRV bootstrap fails", [`etcd-ts would exit with: ${etcdError}`], [
      "see the records above",
    ]);
  }
}
