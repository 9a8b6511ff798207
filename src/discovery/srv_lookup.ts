// Name resolution with Go's error wording. etcd's messages embed Go's resolver errors
// ("lookup _etcd-server-ssl._tcp.example.com on 127.0.0.1:53: no such host"); Deno.resolveDns
// words them differently, so the texts are built here from the failure kind and the nameserver
// in /etc/resolv.conf (which `ip netns exec` bind-mounts from /etc/netns/<ns>/resolv.conf).
import { isIP } from "node:net";
import { orderSrvRecords, type Random, type SrvRecord } from "./srv_order.ts";

/** A failed query; `reason` is Go's wording ("no such host", "i/o timeout", ...). */
export class DnsFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Where names are resolved. Tests inject a fake; production uses `systemResolver`. */
export interface DnsResolver {
  /** The nameserver Go would name in its errors, as "host:53". */
  server(): string;
  /** SRV answers in DNS order; throws DnsFailure. */
  srv(name: string): Promise<SrvRecord[]>;
  /** IPv4 then IPv6 addresses of a host name; throws DnsFailure. */
  addresses(name: string): Promise<string[]>;
}

function failureOf(err: unknown): DnsFailure {
  if (err instanceof DnsFailure) return err;
  if (err instanceof Deno.errors.NotFound) return new DnsFailure("no such host");
  if (err instanceof Deno.errors.TimedOut) return new DnsFailure("i/o timeout");
  return new DnsFailure("server misbehaving");
}

/** First nameserver of a resolv.conf, as Go prints it; Go's default when there is none. */
export function nameserverFrom(resolvConf: string): string {
  for (const line of resolvConf.split("\n")) {
    const [key, addr] = line.trim().split(/\s+/);
    if (key === "nameserver" && addr && isIP(addr)) return joinHostPort(addr, "53");
  }
  return "127.0.0.1:53";
}

export const systemResolver: DnsResolver = {
  server() {
    try {
      return nameserverFrom(Deno.readTextFileSync("/etc/resolv.conf"));
    } catch {
      return "127.0.0.1:53";
    }
  },
  async srv(name) {
    try {
      return await Deno.resolveDns(name, "SRV");
    } catch (err) {
      throw failureOf(err);
    }
  },
  async addresses(name) {
    const [v4, v6] = await Promise.allSettled([
      Deno.resolveDns(name, "A"),
      Deno.resolveDns(name, "AAAA"),
    ]);
    const found = [
      ...(v4.status === "fulfilled" ? v4.value : []),
      ...(v6.status === "fulfilled" ? v6.value : []),
    ];
    if (found.length > 0) return found;
    const failures = [v4, v6].flatMap((r) => r.status === "rejected" ? [failureOf(r.reason)] : []);
    throw failures.find((f) => f.reason !== "no such host") ?? new DnsFailure("no such host");
  },
};

/** Go's *net.DNSError text. */
function lookupError(resolver: DnsResolver, name: string, err: unknown): Error {
  return new Error(`lookup ${name} on ${resolver.server()}: ${failureOf(err).reason}`);
}

/**
 * net.LookupSRV(service, proto, domain): queries `_service._proto.domain` and orders the
 * answers by priority and weight.
 */
export async function lookupSrv(
  resolver: DnsResolver,
  service: string,
  proto: string,
  domain: string,
  random?: Random,
): Promise<SrvRecord[]> {
  const name = `_${service}._${proto}.${domain}`;
  let records: SrvRecord[];
  try {
    records = await resolver.srv(name);
  } catch (err) {
    throw lookupError(resolver, name, err);
  }
  if (records.length === 0) throw lookupError(resolver, name, new DnsFailure("no such host"));
  return orderSrvRecords(records, random);
}

/** net.LookupHost: an IP literal is returned as is, a name is resolved. */
export async function lookupHost(resolver: DnsResolver, host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    const found = await resolver.addresses(host);
    if (found.length === 0) throw new DnsFailure("no such host");
    return found;
  } catch (err) {
    throw lookupError(resolver, host, err);
  }
}

export function joinHostPort(host: string, port: string | number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** net.SplitHostPort with Go's error texts. */
export function splitHostPort(hostport: string): { host: string; port: string } {
  const fail = (why: string) => new Error(`address ${hostport}: ${why}`);
  const colon = hostport.lastIndexOf(":");
  if (colon < 0) throw fail("missing port in address");
  let host: string;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0) throw fail("missing ']' in address");
    if (end + 1 === hostport.length) throw fail("missing port in address");
    if (end + 1 !== colon) {
      throw fail(
        hostport[end + 1] === ":" ? "too many colons in address" : "missing port in address",
      );
    }
    host = hostport.slice(1, end);
  } else {
    host = hostport.slice(0, colon);
    if (host.includes(":")) throw fail("too many colons in address");
  }
  const port = hostport.slice(colon + 1);
  if (host.includes("[") || host.includes("]")) throw fail("unexpected '[' in address");
  if (port.includes("[") || port.includes("]")) throw fail("unexpected ']' in address");
  return { host, port };
}

/**
 * net.ResolveTCPAddr("tcp", hostport).String(): the first IPv4 address (else the first one)
 * joined with the port; used to compare advertised URLs with SRV targets.
 */
export async function resolveTcpAddr(resolver: DnsResolver, hostport: string): Promise<string> {
  const { host, port } = splitHostPort(hostport);
  if (!/^[0-9]+$/.test(port) || Number(port) > 65535) {
    throw new Error(`lookup tcp/${port}: unknown port`);
  }
  if (host === "") return `:${Number(port)}`;
  const addrs = await lookupHost(resolver, host);
  const ip = addrs.find((a) => isIP(a) === 4) ?? addrs[0];
  return joinHostPort(ip, Number(port));
}
