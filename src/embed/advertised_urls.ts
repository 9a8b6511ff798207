// etcd compares a new member's advertised peer URLs with its initial-cluster entry after DNS
// resolution (netutil.URLStringsEqual): the guide's SRV bootstrap may advertise an IP address
// while the SRV records name the member by host name, and both forms must be accepted.
import type { InitialClusterMember } from "../config/mod.ts";
import { joinHostPort, resolveTcpAddr, systemResolver } from "../discovery/mod.ts";

/** Each URL with its host resolved to ip:port, sorted; undefined when one does not resolve. */
async function resolved(urls: string[]): Promise<string[] | undefined> {
  const out: string[] = [];
  for (const text of urls) {
    const u = URL.parse(text);
    if (!u || u.port === "") return undefined;
    try {
      const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
      const addr = await resolveTcpAddr(systemResolver, joinHostPort(host, u.port));
      out.push(`${u.protocol}//${addr}${u.pathname === "/" ? "" : u.pathname}`);
    } catch {
      return undefined;
    }
  }
  return out.sort();
}

/**
 * The advertised peer URLs as the bootstrap check should compare them: the member's own
 * initial-cluster URLs when both lists resolve to the same addresses, else unchanged (the
 * check then reports the difference in etcd's words).
 */
export async function advertisedAsListed(
  name: string,
  advertised: string[],
  cluster: InitialClusterMember[],
): Promise<string[]> {
  const local = cluster.find((e) => e.name === name);
  if (!local || local.urls.length !== advertised.length) return advertised;
  const same = (a: string[], b: string[]) => a.join("\n") === b.join("\n");
  if (same([...local.urls].sort(), [...advertised].sort())) return advertised;
  const [listed, own] = await Promise.all([resolved(local.urls), resolved(advertised)]);
  return listed && own && same(listed, own) ? local.urls : advertised;
}
