// Explanations for the two failures operators meet most with SRV bootstrap: no records at all,
// and records that do not include this member.
import { lookupSrv, srvServiceName } from "../discovery/mod.ts";
import { bareTarget, type ResolvedURL, type ServiceRecords } from "./records.ts";
import type { Report } from "./report.ts";
import type { DiagnoseDeps, SrvDiagnosisInput } from "./input.ts";

/** SRV records that would make this member part of the cluster, in zone-file form. */
export function recordSuggestion(domain: string, service: string, u: ResolvedURL): string[] {
  const isName = u.host !== "" && !/^[0-9.]+$|:/.test(u.host);
  const target = isName ? u.host : `<name>.${domain}`;
  const lines = [`_${service}._tcp.${domain}. 300 IN SRV 0 0 ${u.port} ${target}.`];
  if (!isName) lines.push(`${target}. 300 IN A ${u.host}`);
  return lines;
}

export async function explainNoRecords(
  report: Report,
  input: SrvDiagnosisInput,
  deps: DiagnoseDeps,
  services: ServiceRecords[],
  advertised: ResolvedURL[],
  etcdError: string | undefined,
): Promise<void> {
  const detail = services.map((s) => `${s.fqdn}: ${s.error}`);
  const fix: string[] = [];
  if (input.srvName !== "") {
    // Records without the suffix are the usual cause.
    for (const scheme of ["https", "http"] as const) {
      const plain = srvServiceName("etcd-server", "", scheme);
      try {
        await lookupSrv(deps.resolver, plain, "tcp", input.domain);
        detail.push(
          `_${plain}._tcp.${input.domain} has records, but --discovery-srv-name ` +
            `${input.srvName} makes members read only _${
              srvServiceName("etcd-server", input.srvName, scheme)
            }._tcp.${input.domain}`,
        );
        fix.push(`drop --discovery-srv-name ${input.srvName} to use those records`);
      } catch {
        // nothing there either
      }
    }
  }
  if (etcdError) detail.push(`etcd-ts would exit with: ${etcdError}`);
  const scheme = advertised[0]?.scheme === "https" ? "https" : "http";
  const service = srvServiceName("etcd-server", input.srvName, scheme);
  fix.push(
    `${
      fix.length > 0 ? "or " : ""
    }publish one SRV record per member under _${service}._tcp.${input.domain}` +
      (scheme === "https" ? "" : ` (_etcd-server-ssl${input.srvName ? "-" + input.srvName : ""}` +
        `._tcp for https peers)`) +
      ", with an A record for each target, e.g.:",
  );
  if (advertised[0]?.port) fix.push(...recordSuggestion(input.domain, service, advertised[0]));
  fix.push(
    `and check that this machine asks the DNS server holding them ` +
      `(nameserver ${deps.resolver.server()} in /etc/resolv.conf)`,
  );
  report.problem(`no server SRV records for ${input.domain}`, detail, fix);
}

export function explainNotAMember(
  report: Report,
  input: SrvDiagnosisInput,
  services: ServiceRecords[],
  advertised: ResolvedURL[],
  etcdError: string | undefined,
): void {
  const targets = services.flatMap((s) => s.records.filter((r) => r.tcpAddr));
  const detail: string[] = [];
  for (const u of advertised) {
    detail.push(`the advertised peer URL ${u.url} resolves to ${u.tcpAddr}`);
    const ip = u.tcpAddr!.replace(/:[0-9]+$/, "");
    for (const t of targets.filter((t) => t.tcpAddr!.replace(/:[0-9]+$/, "") === ip)) {
      detail.push(
        `target ${t.target} has this address, but its record says port ${t.port}, not ${u.port}`,
      );
    }
  }
  detail.push(
    "the targets resolve to " +
      targets.map((t) => `${t.tcpAddr} (${bareTarget(t.target)})`).join(", "),
  );
  if (etcdError) detail.push(`etcd-ts would exit with: ${etcdError}`);
  const u = advertised[0];
  const scheme = u.scheme === "https" ? "https" : "http";
  const service = srvServiceName("etcd-server", input.srvName, scheme);
  // Most likely this member's own record, when a target carries its name.
  const one = targets.find((t) => t.target.split(".")[0] === input.name) ?? targets[0];
  report.problem(`this member (--name ${input.name}) is not among the SRV targets`, detail, [
    "publish a record for this member (the records define who is in the cluster):",
    ...recordSuggestion(input.domain, service, u),
    ...(one
      ? [
        "or, if this machine is one of the targets, advertise it: --initial-advertise-peer-urls " +
        `${scheme}://${bareTarget(one.target)}:${one.port} (a name resolving to this machine)`,
      ]
      : []),
  ]);
}
