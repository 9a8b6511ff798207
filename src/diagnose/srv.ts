// `etcd-ts diagnose srv`: replays a member's DNS SRV bootstrap (spec/dns-srv.md) and explains
// every way it would fail — no records, this member not among the targets, scheme mismatch,
// certificates that the other members or clients would refuse — with the fix in plain words.
import { type DnsResolver, joinHostPort, srvServerCluster } from "../discovery/mod.ts";
import { checkInitialCluster, formatId } from "../server/mod.ts";
import { checkCert, loadCert } from "./certs.ts";
import { checkClients } from "./clients.ts";
import { explainNoRecords, explainNotAMember } from "./explain.ts";
import {
  bareTarget,
  cachedHosts,
  type HostLookup,
  matches,
  type OwnRecord,
  resolveURL,
  type ServiceRecords,
  serviceRecords,
  showRecords,
} from "./records.ts";
import { Report } from "./report.ts";

export interface SrvDiagnosisInput {
  domain: string;
  srvName: string;
  name: string;
  advertisePeerUrls: string[];
  advertiseClientUrls: string[];
  listenPeerUrls: string[];
  initialClusterToken: string;
  peerTLS: { certFile: string; trustedCAFile: string; autoTLS: boolean };
  clientTLS: { certFile: string; autoTLS: boolean };
}

export interface DiagnoseDeps {
  resolver: DnsResolver;
  readFile(path: string): string;
  now?: Date;
}

export async function diagnoseSrv(input: SrvDiagnosisInput, deps: DiagnoseDeps): Promise<Report> {
  const report = new Report();
  const hosts: HostLookup = cachedHosts(deps.resolver);
  const { domain, srvName } = input;
  report.section(`DNS SRV bootstrap of ${input.name} from ${domain}`);
  report.line(`nameserver: ${deps.resolver.server()}`);
  if (srvName !== "") report.line(`--discovery-srv-name: ${srvName}`);

  const advertised = await Promise.all(input.advertisePeerUrls.map((u) => resolveURL(hosts, u)));
  for (const u of advertised) {
    report.line(`advertised peer URL ${u.url} -> ${u.tcpAddr ?? `does not resolve (${u.error})`}`);
  }
  const servers = await serviceRecords(deps.resolver, hosts, "etcd-server", domain, srvName);
  const own = matches(servers, advertised);
  report.section("server records (members bootstrap from these)");
  showRecords(report, servers, own, "this member");

  // The member's own algorithm gives the exact outcome and message.
  let etcdError: string | undefined;
  let initialCluster: { name: string; urls: string[] }[] = [];
  try {
    const cluster = await srvServerCluster(domain, srvName, {
      resolver: deps.resolver,
      name: input.name,
      advertisePeerUrls: input.advertisePeerUrls,
    });
    const byName = new Map<string, string[]>();
    for (const e of cluster.entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e.url]);
    initialCluster = [...byName].map(([name, urls]) => ({ name, urls }));
  } catch (err) {
    etcdError = `error setting up initial cluster: ${(err as Error).message}`;
  }

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
  const found = servers.some((s) => s.records.length > 0);
  const resolvable = servers.some((s) => s.records.some((r) => r.tcpAddr !== undefined));
  if (unresolved.length === 0) {
    if (!found) {
      await explainNoRecords(report, input, deps, servers, advertised, etcdError);
    } else if (!resolvable && etcdError) {
      report.problems.at(-1)!.detail.push(`etcd-ts would exit with: ${etcdError}`);
    } else if (own.length === 0) {
      explainNotAMember(report, input, servers, advertised, etcdError);
    }
  }
  for (const o of own) {
    const target = `${joinHostPort(o.record.target, o.record.port)} of ${o.service.fqdn}`;
    if (o.advertised.scheme !== o.service.scheme) {
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

  checkListenSchemes(report, input, own);
  await checkPeerTLS(report, input, deps, hosts, servers, own);
  await checkClients(report, input, deps, hosts);
  return report;
}

function checkListenSchemes(report: Report, input: SrvDiagnosisInput, own: OwnRecord[]): void {
  const scheme = own[0]?.service.scheme;
  if (scheme === undefined) return;
  const wrong = input.listenPeerUrls.filter((u) => !u.startsWith(`${scheme}:`));
  if (wrong.length === 0) return;
  report.problem(`--listen-peer-urls ${wrong.join(",")} is not ${scheme}`, [
    `the other members dial this member at its ${scheme} SRV target`,
  ], [`listen with ${scheme}:// peer URLs`]);
}

async function checkPeerTLS(
  report: Report,
  input: SrvDiagnosisInput,
  deps: DiagnoseDeps,
  hosts: HostLookup,
  servers: ServiceRecords[],
  own: OwnRecord[],
): Promise<void> {
  const ssl = servers.find((s) => s.scheme === "https" && s.records.length > 0);
  const { certFile, trustedCAFile, autoTLS } = input.peerTLS;
  if (certFile === "") {
    if (ssl && !autoTLS) {
      report.problem("https peers without a peer certificate", [
        `${ssl.fqdn} makes peers talk https, but no --peer-cert-file is given`,
      ], ["give --peer-cert-file and --peer-key-file (or --peer-auto-tls)"]);
    }
    return;
  }
  const mine = own.find((o) => o.service.scheme === "https") ?? own[0];
  await checkCert(
    report,
    loadCert(certFile, deps.readFile),
    {
      kind: "peer",
      flag: "--peer-cert-file",
      domain: input.domain,
      host: mine ? bareTarget(mine.record.target) : undefined,
      ip: mine?.advertised.tcpAddr?.replace(/:[0-9]+$/, "").replace(/^\[(.*)\]$/, "$1"),
      domainRequired: ssl !== undefined && trustedCAFile === "",
      hostRequired: ssl !== undefined && trustedCAFile !== "",
      trustedCAFile,
      now: deps.now ?? new Date(),
    },
    hosts,
    deps.readFile,
  );
  if (!ssl) {
    report.line("not used for peers: no _etcd-server-ssl records, peers talk http");
  }
}
