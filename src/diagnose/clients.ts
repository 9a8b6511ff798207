// The client side of SRV discovery: the _etcd-client(-ssl) records etcdctl and the gateway
// read, whether one of them is this member, and the client certificate they would verify.
import { joinHostPort, srvServiceName } from "../discovery/mod.ts";
import { checkCert, loadCert } from "./certs.ts";
import { recordSuggestion } from "./explain.ts";
import {
  bareTarget,
  type HostLookup,
  matches,
  resolveURL,
  serviceRecords,
  showRecords,
} from "./records.ts";
import type { Report } from "./report.ts";
import type { DiagnoseDeps, SrvDiagnosisInput } from "./input.ts";

export async function checkClients(
  report: Report,
  input: SrvDiagnosisInput,
  deps: DiagnoseDeps,
  hosts: HostLookup,
): Promise<void> {
  const clients = await serviceRecords(
    deps.resolver,
    hosts,
    "etcd-client",
    input.domain,
    input.srvName,
  );
  const advertised = await Promise.all(input.advertiseClientUrls.map((u) => resolveURL(hosts, u)));
  const own = matches(clients, advertised);
  report.section("client records (etcdctl --discovery-srv and the gateway use these)");
  showRecords(report, clients, own, "this member's client URL");
  if (clients.every((s) => s.records.length === 0)) {
    const service = srvServiceName("etcd-client", input.srvName, "http");
    report.warn(`no client SRV records for ${input.domain}`, [
      "clients that discover the cluster through DNS find nothing and need --endpoints",
    ], [
      `publish _${service}._tcp.${input.domain} records (or -ssl ones) for the client URLs, ` +
      "e.g.:",
      ...(advertised[0]?.port ? recordSuggestion(input.domain, service, advertised[0]) : []),
    ]);
  } else if (own.length === 0) {
    report.warn("no client record points at this member's advertised client URLs", [
      ...advertised.map((u) => `${u.url} -> ${u.tcpAddr ?? u.error}`),
      "clients that discover the cluster through DNS will not use this member",
    ]);
  }
  for (const o of own) {
    if (o.advertised.scheme !== o.service.scheme) {
      report.problem(
        `clients dial this member with ${o.service.scheme} but it advertises ${o.advertised.url}`,
        [`${o.service.fqdn} lists ${joinHostPort(o.record.target, o.record.port)}`],
        [`serve ${o.service.scheme} on the client URLs, or move the record`],
      );
    }
  }
  const ssl = clients.find((s) => s.scheme === "https" && s.records.length > 0);
  const { certFile, autoTLS } = input.clientTLS;
  if (certFile === "") {
    if (ssl && own.some((o) => o.service === ssl) && !autoTLS) {
      report.problem("https client records without a client certificate", [
        `${ssl.fqdn} sends clients to this member over https, but no --cert-file is given`,
      ], ["give --cert-file and --key-file"]);
    }
    return;
  }
  const mine = own.find((o) => o.service.scheme === "https") ?? own[0];
  await checkCert(
    report,
    loadCert(certFile, deps.readFile),
    {
      kind: "client",
      flag: "--cert-file",
      domain: input.domain,
      host: mine ? bareTarget(mine.record.target) : undefined,
      domainRequired: ssl !== undefined,
      hostRequired: false,
      // --trusted-ca-file verifies clients' certificates, not necessarily this one's signer.
      trustedCAFile: "",
      now: deps.now ?? new Date(),
    },
    hosts,
    deps.readFile,
  );
}
