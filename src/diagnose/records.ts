// DNS facts behind an SRV bootstrap, gathered the way the member gathers them (same lookups,
// same ordering, first IPv4 address of each name), kept for explaining rather than failing fast.
import { isIP } from "node:net";
import {
  type DnsResolver,
  joinHostPort,
  lookupHost,
  lookupSrv,
  splitHostPort,
  srvServiceName,
} from "../discovery/mod.ts";
import type { Report } from "./report.ts";

export type Scheme = "https" | "http";

export interface ResolvedRecord {
  priority: number;
  weight: number;
  /** As DNS returns it, with the trailing dot. */
  target: string;
  port: number;
  /** Every address of the target, or the resolver error. */
  addresses: string[];
  error?: string;
  /** ip:port the member compares with its advertised URLs (first IPv4 address). */
  tcpAddr?: string;
}

export interface ServiceRecords {
  service: string;
  /** `_service._tcp.domain` */
  fqdn: string;
  scheme: Scheme;
  records: ResolvedRecord[];
  /** Go's resolver error when the lookup found nothing. */
  error?: string;
}

export interface ResolvedURL {
  url: string;
  scheme: string;
  host: string;
  port: string;
  tcpAddr?: string;
  error?: string;
}

/** The first IPv4 address (else the first one) joined with the port, as net.ResolveTCPAddr. */
export function tcpAddrOf(addresses: string[], port: string | number): string {
  const ip = addresses.find((a) => isIP(a) === 4) ?? addresses[0];
  return joinHostPort(ip, port);
}

/** Looks `host` up once per diagnosis. */
export function cachedHosts(resolver: DnsResolver) {
  const cache = new Map<string, Promise<string[]>>();
  return (host: string): Promise<string[]> => {
    let found = cache.get(host);
    if (!found) {
      found = lookupHost(resolver, host);
      cache.set(host, found);
    }
    return found;
  };
}

export type HostLookup = ReturnType<typeof cachedHosts>;

/** Both services (`-ssl` first) of `base` ("etcd-server" or "etcd-client"), targets resolved. */
export async function serviceRecords(
  resolver: DnsResolver,
  hosts: HostLookup,
  base: string,
  domain: string,
  srvName: string,
): Promise<ServiceRecords[]> {
  const out: ServiceRecords[] = [];
  for (const scheme of ["https", "http"] as const) {
    const service = srvServiceName(base, srvName, scheme);
    const found: ServiceRecords = {
      service,
      fqdn: `_${service}._tcp.${domain}`,
      scheme,
      records: [],
    };
    out.push(found);
    try {
      for (const srv of await lookupSrv(resolver, service, "tcp", domain)) {
        const record: ResolvedRecord = { ...srv, addresses: [] };
        try {
          record.addresses = await hosts(srv.target);
          record.tcpAddr = tcpAddrOf(record.addresses, srv.port);
        } catch (err) {
          record.error = (err as Error).message;
        }
        found.records.push(record);
      }
    } catch (err) {
      found.error = (err as Error).message;
    }
  }
  return out;
}

/** An advertised URL with its host resolved as the member resolves it. */
export async function resolveURL(hosts: HostLookup, url: string): Promise<ResolvedURL> {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(url);
  const out: ResolvedURL = { url, scheme: m?.[1].toLowerCase() ?? "", host: "", port: "" };
  try {
    const { host, port } = splitHostPort(m?.[2] ?? "");
    out.host = host;
    out.port = port;
    out.tcpAddr = tcpAddrOf(await hosts(host), port);
  } catch (err) {
    out.error = (err as Error).message;
  }
  return out;
}

export interface OwnRecord {
  service: ServiceRecords;
  record: ResolvedRecord;
  advertised: ResolvedURL;
}

/** What DNS says about the members: the advertised peer URLs, the server records, this member's. */
export interface PeerRecords {
  advertised: ResolvedURL[];
  servers: ServiceRecords[];
  own: OwnRecord[];
}

export function matches(services: ServiceRecords[], urls: ResolvedURL[]): OwnRecord[] {
  const own: OwnRecord[] = [];
  for (const service of services) {
    for (const record of service.records) {
      const advertised = urls.find((u) => u.tcpAddr && u.tcpAddr === record.tcpAddr);
      if (advertised) own.push({ service, record, advertised });
    }
  }
  return own;
}

export function showRecords(
  report: Report,
  services: ServiceRecords[],
  own: OwnRecord[],
  ownLabel: string,
): void {
  for (const s of services) {
    if (s.error !== undefined) {
      report.line(`${s.fqdn}: none (${s.error})`);
      continue;
    }
    report.line(`${s.fqdn} (${s.scheme}):`);
    for (const r of s.records) {
      const mine = own.some((o) => o.record === r) ? `   <- ${ownLabel}` : "";
      report.line(describeRecord(r) + mine, 2);
    }
  }
}

/** "0 10 2380 infra0.example.com. -> 127.0.92.10" */
export function describeRecord(r: ResolvedRecord): string {
  const where = r.error !== undefined ? `does not resolve (${r.error})` : r.addresses.join(", ");
  return `priority ${r.priority} weight ${r.weight} ${joinHostPort(r.target, r.port)} -> ${where}`;
}

export const bareTarget = (target: string) => target.replace(/\.$/, "");
