// `etcd-ts gateway start`: endpoints from --endpoints or --discovery-srv, etcd's start-up checks
// and messages (printed on stdout, as etcd's fmt.Print calls do; DNS and listen failures on
// stderr), then the TCP proxy until the process is told to stop.
import net from "node:net";
import type { GatewayConfig } from "../config/mod.ts";
import {
  type DnsResolver,
  joinHostPort,
  lookupHost,
  type Random,
  splitHostPort,
  type SrvRecord,
  systemResolver,
} from "../discovery/mod.ts";
import type { Logger } from "../log/mod.ts";
import { listenTcp } from "./dial.ts";
import { discoverEndpoints } from "./discover.ts";
import { TcpProxy } from "./tcpproxy.ts";

export interface GatewayIO {
  stdout(text: string): void;
  stderr(text: string): void;
  log: Logger;
  resolver?: DnsResolver;
  random?: Random;
}

/** A started gateway; `proxy` is exposed for tests. */
export interface Gateway {
  proxy: TcpProxy;
  /** Where it listens, "ip:port". */
  address: string;
  close(): Promise<void>;
}

/** `scheme://host:port/...` -> `host:port`; anything without a host is kept as written. */
export function stripScheme(endpoint: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(endpoint);
  return m && m[1] !== "" ? m[1] : endpoint;
}

/** fmt.Sscanf("%d") into a uint16: leading digits, wrapped; 0 when there are none. */
function scanPort(p: string): number {
  const m = /^[+-]?[0-9]+/.exec(p);
  return m ? ((Number(m[0]) % 65536) + 65536) % 65536 : 0;
}

class StartError extends Error {
  constructor(readonly text: string, readonly stream: "stdout" | "stderr") {
    super(text);
  }
}

async function endpointRecords(
  cfg: GatewayConfig,
  io: GatewayIO,
  resolver: DnsResolver,
): Promise<{ endpoints: string[]; srvs: SrvRecord[] }> {
  let discovered = { endpoints: [] as string[], srvs: [] as SrvRecord[] };
  if (cfg.discoverySrv !== "") {
    try {
      discovered = await discoverEndpoints({
        domain: cfg.discoverySrv,
        srvName: cfg.discoverySrvName,
        insecure: cfg.insecureDiscovery,
        trustedCaFile: cfg.trustedCaFile,
        resolver,
        random: io.random,
        log: io.log,
      });
    } catch (err) {
      throw new StartError(`${(err as Error).message}\n`, "stderr");
    }
  }
  // Nothing discovered: fall back to --endpoints.
  const endpoints = (discovered.endpoints.length > 0 ? discovered.endpoints : cfg.endpoints)
    .map(stripScheme);
  if (discovered.srvs.length > 0) return { endpoints, srvs: discovered.srvs };
  const srvs = endpoints.map((ep) => {
    let host: string, port: string;
    try {
      ({ host, port } = splitHostPort(ep));
    } catch {
      throw new StartError(`error parsing endpoint ${JSON.stringify(ep)}`, "stdout");
    }
    return { target: host, port: scanPort(port), priority: 0, weight: 0 };
  });
  return { endpoints, srvs };
}

async function prepare(cfg: GatewayConfig, io: GatewayIO) {
  const resolver = io.resolver ?? systemResolver;
  const { endpoints, srvs } = await endpointRecords(cfg, io, resolver);
  let lhost: string, lport: string;
  try {
    ({ host: lhost, port: lport } = splitHostPort(cfg.listenAddr));
  } catch {
    throw new StartError(`failed to validate listen address: ${cfg.listenAddr}\n`, "stdout");
  }
  let laddrs: string[];
  try {
    if (lhost === "") throw new Error("no such host");
    laddrs = await lookupHost(resolver, lhost);
  } catch {
    throw new StartError(`failed to resolve listen host: ${lhost}\n`, "stdout");
  }
  for (const srv of srvs) {
    let eaddrs: string[];
    try {
      eaddrs = await lookupHost(resolver, srv.target);
    } catch {
      throw new StartError(`failed to resolve endpoint host: ${srv.target}\n`, "stdout");
    }
    if (String(srv.port) !== lport) continue;
    const clash = eaddrs.find((ea) => laddrs.includes(ea));
    if (clash !== undefined) {
      throw new StartError(
        `SRV or endpoint (${srv.target}:${srv.port}->${clash}:${srv.port}) should not resolve ` +
          `to the gateway listen addr (${cfg.listenAddr})\n`,
        "stdout",
      );
    }
  }
  if (endpoints.length === 0) throw new StartError("no endpoints found\n", "stdout");
  // Go listens on the first IPv4 address of a name ("localhost" -> 127.0.0.1).
  const ip = laddrs.find((a) => net.isIP(a) === 4) ?? laddrs[0];
  let server: net.Server;
  try {
    server = await listenTcp(ip, Number(lport));
  } catch (err) {
    throw new StartError(`${(err as Error).message}\n`, "stderr");
  }
  return { resolver, srvs, server, address: joinHostPort(ip, Number(lport)) };
}

/**
 * Runs the start-up of `gateway start` and begins proxying; on a start-up failure prints
 * etcd's message and returns the exit code instead.
 */
export async function startGateway(cfg: GatewayConfig, io: GatewayIO): Promise<Gateway | number> {
  let prepared;
  try {
    prepared = await prepare(cfg, io);
  } catch (err) {
    if (!(err instanceof StartError)) throw err;
    io[err.stream](err.text);
    return 1;
  }
  const { resolver, srvs, server, address } = prepared;
  const proxy = new TcpProxy({
    server,
    endpoints: srvs.map((s) => ({
      addr: joinHostPort(s.target, s.port),
      priority: s.priority,
      weight: s.weight,
    })),
    monitorInterval: cfg.retryDelay,
    log: io.log,
    resolver,
    random: io.random,
  });
  proxy.run();
  return { proxy, address, close: () => proxy.close() };
}
