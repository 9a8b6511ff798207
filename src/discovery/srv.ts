// DNS SRV discovery (`--discovery-srv`): the initial cluster a member bootstraps from
// (`_etcd-server-ssl._tcp` and `_etcd-server._tcp` records, etcd 3.5 semantics: both are used),
// and the client endpoints the gateway proxies to (`_etcd-client-ssl._tcp`, `_etcd-client._tcp`).
import {
  type DnsResolver,
  joinHostPort,
  lookupSrv,
  resolveTcpAddr,
  systemResolver,
} from "./srv_lookup.ts";
import type { Random, SrvRecord } from "./srv_order.ts";
import type { Logger } from "../log/mod.ts";

export { orderSrvRecords } from "./srv_order.ts";
export type { Random, SrvRecord } from "./srv_order.ts";
export {
  DnsFailure,
  joinHostPort,
  lookupHost,
  lookupSrv,
  nameserverFrom,
  resolveTcpAddr,
  splitHostPort,
  systemResolver,
} from "./srv_lookup.ts";
export type { DnsResolver } from "./srv_lookup.ts";

export interface SrvOptions {
  resolver?: DnsResolver;
  /** Drives the weighted shuffle of equal-priority records. */
  random?: Random;
}

type Scheme = "https" | "http";

/** `etcd-server` + `-ssl` for https + `-<srvName>` when given. */
export function srvServiceName(base: string, srvName: string, scheme: Scheme): string {
  const service = scheme === "https" ? `${base}-ssl` : base;
  return srvName === "" ? service : `${service}-${srvName}`;
}

export interface ClusterEntry {
  name: string;
  url: string;
}

/** One service's lookup, for etcd 3.5's `get cluster for <service> SRV` log lines. */
export interface ServerLookup {
  service: string;
  scheme: Scheme;
  entries: ClusterEntry[];
  error?: string;
}

export interface ServerClusterOptions extends SrvOptions {
  /** --name */
  name: string;
  /** --initial-advertise-peer-urls, in etcd's string form. */
  advertisePeerUrls: (string | URL)[];
  /** A member must find itself in the records; the v2 proxy does not (default true). */
  requireLocalMember?: boolean;
}

export interface ServerCluster {
  /** `-ssl` records first, then plain ones, in SRV order. */
  entries: ClusterEntry[];
  /** The entries as an --initial-cluster value. */
  initialCluster: string;
  lookups: ServerLookup[];
  /**
   * Set when entries were found but a lookup failed too: etcd 3.5 logs it as the warning
   * `failed to resolve during SRV discovery` and goes on.
   */
  warning?: string;
}

/** A discovery failure whose message is etcd's. */
export class SrvError extends Error {
  constructor(message: string, readonly kind: "lookup" | "local-member") {
    super(message);
  }
}

function schemeAndHost(u: string | URL): { scheme: string; host: string; text: string } {
  const text = String(u);
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(text);
  return m ? { scheme: m[1].toLowerCase(), host: m[2], text } : { scheme: "", host: "", text };
}

async function serverLookup(
  resolver: DnsResolver,
  domain: string,
  service: string,
  scheme: Scheme,
  name: string,
  advertised: Map<string, { scheme: string; text: string }>,
  random: Random | undefined,
): Promise<ServerLookup> {
  const lookup: ServerLookup = { service, scheme, entries: [] };
  let records: SrvRecord[];
  try {
    records = await lookupSrv(resolver, service, "tcp", domain, random);
  } catch (err) {
    lookup.error = `error querying DNS SRV records for _${service} ${(err as Error).message}`;
    return lookup;
  }
  let lastError = "";
  let tempName = 0;
  for (const srv of records) {
    let addr: string;
    try {
      addr = await resolveTcpAddr(resolver, joinHostPort(srv.target, srv.port));
    } catch (err) {
      lastError = (err as Error).message; // an unresolvable target is skipped
      continue;
    }
    const own = advertised.get(addr);
    const memberName = own ? name : String(tempName++);
    // SRV targets end with a dot; URLs do not.
    const url = `${scheme}://${joinHostPort(srv.target.replace(/\.$/, ""), srv.port)}`;
    if (own && own.scheme !== scheme) {
      lastError = `bootstrap at ${url} from DNS for ${service} has scheme mismatch ` +
        `with expected peer ${own.text}`;
    } else {
      lookup.entries.push({ name: memberName, url });
    }
  }
  if (lookup.entries.length === 0) {
    lookup.error = `error querying DNS SRV records for _${service} ${lastError}`;
  }
  return lookup;
}

/**
 * The initial cluster etcd builds from the server SRV records of `domain`: the record whose
 * target resolves to one of this member's advertised peer addresses is named `--name`, the
 * others get temporary names "0", "1", ... (per service). Throws SrvError with etcd's message
 * when nothing was found or (unless disabled) when this member is not among the records.
 */
export async function srvServerCluster(
  domain: string,
  srvName: string,
  opts: ServerClusterOptions,
): Promise<ServerCluster> {
  const resolver = opts.resolver ?? systemResolver;
  const advertised = new Map<string, { scheme: string; text: string }>();
  for (const u of opts.advertisePeerUrls) {
    const { scheme, host, text } = schemeAndHost(u);
    let addr: string;
    try {
      addr = await resolveTcpAddr(resolver, host);
    } catch (err) {
      // An advertised host that does not resolve aborts with the bare resolver error.
      throw new SrvError((err as Error).message, "lookup");
    }
    advertised.set(addr, { scheme, text });
  }
  const lookups: ServerLookup[] = [];
  for (const scheme of ["https", "http"] as const) {
    const service = srvServiceName("etcd-server", srvName, scheme);
    lookups.push(
      await serverLookup(resolver, domain, service, scheme, opts.name, advertised, opts.random),
    );
  }
  const entries = lookups.flatMap((l) => l.entries);
  const errors = lookups.flatMap((l) => l.error === undefined ? [] : [l.error]);
  if (entries.length === 0) throw new SrvError(errors.join("; "), "lookup");
  if ((opts.requireLocalMember ?? true) && !entries.some((e) => e.name === opts.name)) {
    throw new SrvError(
      `cannot find local etcd member ${JSON.stringify(opts.name)} in SRV records`,
      "local-member",
    );
  }
  return {
    entries,
    initialCluster: entries.map((e) => `${e.name}=${e.url}`).join(","),
    lookups,
    warning: errors.length > 0 ? errors.join("; ") : undefined,
  };
}

/** Logs a cluster's `warning`, if any, as etcd does before bootstrapping from the records. */
export function logSrvWarning(log: Logger, cluster: ServerCluster): void {
  if (!cluster.warning) return;
  log.warn({
    pkg: "etcdmain",
    text: `couldn't resolve during SRV discovery (${cluster.warning})`,
    msg: "failed to resolve during SRV discovery",
    fields: { error: cluster.warning },
  });
}

export interface ClientEndpoints {
  /** `<scheme>://<target>:<port>`, the target keeping its trailing dot. */
  endpoints: string[];
  /** The records behind `endpoints`, index for index (the gateway picks by their priority). */
  srvs: SrvRecord[];
}

/**
 * Client endpoints from `_etcd-client-ssl._tcp` (https) and `_etcd-client._tcp` (http), as
 * etcdctl, the gateway and the grpc-proxy find them. Throws etcd's `dns lookup errors: ...`
 * only when both lookups fail.
 */
export async function srvClientEndpoints(
  domain: string,
  srvName: string,
  opts: SrvOptions = {},
): Promise<ClientEndpoints> {
  const resolver = opts.resolver ?? systemResolver;
  const found: ClientEndpoints = { endpoints: [], srvs: [] };
  const errors: string[] = [];
  for (const scheme of ["https", "http"] as const) {
    const service = srvServiceName("etcd-client", srvName, scheme);
    try {
      const records = await lookupSrv(resolver, service, "tcp", domain, opts.random);
      for (const srv of records) {
        found.endpoints.push(`${scheme}://${joinHostPort(srv.target, srv.port)}`);
        found.srvs.push(srv);
      }
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length === 2) throw new Error(`dns lookup errors: ${errors[0]} and ${errors[1]}`);
  return found;
}
