// The peer side of SRV discovery once the records are known: whether this member listens with
// the scheme its record announces, and whether the other members would accept its peer
// certificate (the SRV domain, its target name and its address among the SANs).
import { checkCert, loadCert } from "./certs.ts";
import type { DiagnoseDeps, SrvDiagnosisInput } from "./input.ts";
import {
  bareTarget,
  type HostLookup,
  type OwnRecord,
  type PeerRecords,
  type ServiceRecords,
} from "./records.ts";
import type { Report } from "./report.ts";

export async function checkPeers(
  report: Report,
  input: SrvDiagnosisInput,
  deps: DiagnoseDeps,
  hosts: HostLookup,
  { servers, own }: PeerRecords,
): Promise<void> {
  checkListenSchemes(report, input, own);
  await checkPeerTLS(report, input, deps, hosts, servers, own);
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
