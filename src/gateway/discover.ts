// Endpoints from `--discovery-srv` client records, filtered as etcd's gateway filters them:
// with --insecure-discovery every record is kept; otherwise only https endpoints that answer a
// dial survive (etcd's check builds a TLS config from --trusted-ca-file and ServerName = domain,
// then dials TCP with a 5 s timeout; a CA that cannot be read rejects every endpoint).
import { type DnsResolver, type Random, srvClientEndpoints } from "../discovery/mod.ts";
import type { SrvRecord } from "../discovery/mod.ts";
import type { Logger } from "../log/mod.ts";
import { dialTcp } from "./dial.ts";

export interface DiscoverOptions {
  domain: string;
  srvName: string;
  insecure: boolean;
  trustedCaFile: string;
  resolver: DnsResolver;
  random?: Random;
  log: Logger;
}

export interface Discovered {
  endpoints: string[];
  srvs: SrvRecord[];
}

const VALIDATE_DIAL_TIMEOUT_MS = 5_000;
const caller = (line: number) => `etcdmain/util.go:${line}`;

async function validateSecureEndpoints(
  opts: DiscoverOptions,
  endpoints: string[],
): Promise<{ valid: string[]; error?: string }> {
  if (opts.trustedCaFile !== "") {
    try {
      Deno.readFileSync(opts.trustedCaFile);
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound
        ? "no such file or directory"
        : (err as Error).message;
      return { valid: [], error: `open ${opts.trustedCaFile}: ${why}` };
    }
  }
  const valid: string[] = [];
  const errors: string[] = [];
  for (const ep of endpoints) {
    if (!ep.startsWith("https://")) {
      errors.push(`${JSON.stringify(ep)} is insecure`);
      continue;
    }
    try {
      const sock = await dialTcp(
        opts.resolver,
        ep.slice("https://".length),
        VALIDATE_DIAL_TIMEOUT_MS,
      );
      sock.destroy();
      valid.push(ep);
    } catch (err) {
      errors.push(`${JSON.stringify(ep)} failed to dial (${(err as Error).message})`);
    }
  }
  return { valid, error: errors.length > 0 ? errors.join(",") : undefined };
}

/** Throws etcd's `dns lookup errors: ...` when both lookups fail. */
export async function discoverEndpoints(opts: DiscoverOptions): Promise<Discovered> {
  const found = await srvClientEndpoints(opts.domain, opts.srvName, {
    resolver: opts.resolver,
    random: opts.random,
  });
  const { log } = opts;
  log.info({
    pkg: "etcdmain",
    text: "discovered cluster from SRV",
    caller: caller(39),
    fields: { "srv-server": opts.domain, endpoints: found.endpoints },
  });
  if (opts.insecure) return found;
  log.info({
    pkg: "etcdmain",
    text: "validating discovered SRV endpoints",
    caller: caller(58),
    fields: { "srv-server": opts.domain, endpoints: found.endpoints },
  });
  const { valid, error } = await validateSecureEndpoints(opts, found.endpoints);
  if (error !== undefined) {
    log.warn({
      pkg: "etcdmain",
      text: "failed to validate discovered endpoints",
      caller: caller(70),
      fields: { "srv-server": opts.domain, endpoints: valid, error },
    });
  } else {
    log.info({
      pkg: "etcdmain",
      text: "using validated discovered SRV endpoints",
      caller: caller(81),
      fields: { "srv-server": opts.domain, endpoints: valid },
    });
  }
  const keep = new Set(valid);
  const out: Discovered = { endpoints: [], srvs: [] };
  found.endpoints.forEach((ep, i) => {
    if (!keep.has(ep)) return;
    out.endpoints.push(ep);
    out.srvs.push(found.srvs[i]);
  });
  return out;
}
