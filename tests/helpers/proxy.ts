// Shared pieces of the v2 proxy tests: a Config from etcd's flags, fake members whose peer port
// answers `/members` as etcd does and whose client port answers with its name, raw GETs.
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type tls from "node:tls";
import { type Config, parseServerArgs } from "../../src/config/mod.ts";

export async function proxyConfig(args: string[]): Promise<Config> {
  const out = await parseServerArgs(args, {});
  if (out.action !== "run") throw new Error(`flags rejected: ${JSON.stringify(out)}`);
  return out.config;
}

export interface FakeMember {
  url: string;
  requests: string[];
  /** What `/members` answers next (raw JSON text). */
  members: string;
  clusterId: string;
  close(): Promise<void>;
}

/** A peer port that answers `GET /members` like an etcd 3.4 member. */
export async function fakePeer(
  host: string,
  members: string,
  tlsOptions?: tls.TlsOptions,
): Promise<FakeMember> {
  const fake: FakeMember = {
    url: "",
    requests: [],
    members,
    clusterId: "c28dadfc30dffcca",
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server = serve(tlsOptions, (req, res) => {
    fake.requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "Content-Type": "application/json", "X-Etcd-Cluster-Id": fake.clusterId });
    res.end(fake.members);
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const scheme = tlsOptions ? "https" : "http";
  fake.url = `${scheme}://${host}:${(server.address() as net.AddressInfo).port}`;
  return fake;
}

/** A member's client port that answers every request with its own name. */
export async function fakeClientPort(
  host: string,
  name: string,
  tlsOptions?: tls.TlsOptions,
): Promise<{
  url: string;
  hits: string[];
  /** Resolves when a long poll on `path` has been hung up. */
  hungUp(path: string): Promise<void>;
  close(): Promise<void>;
}> {
  const hits: string[] = [];
  const hangUps = new Map<string, PromiseWithResolvers<void>>();
  const hangUp = (path: string) => {
    if (!hangUps.has(path)) hangUps.set(path, Promise.withResolvers());
    return hangUps.get(path)!;
  };
  const server = serve(tlsOptions, async (req, res) => {
    let body = "";
    for await (const c of req) body += new TextDecoder().decode(c as Uint8Array);
    hits.push(`${req.method} ${req.url} ${body}`);
    if (req.url?.includes("wait=true")) {
      // A long poll: the head now, the event never; note when the proxy hangs up.
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      res.on("close", () => {
        hits.push(`closed ${req.url}`);
        hangUp(req.url!).resolve();
      });
      return;
    }
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Access-Control-Allow-Origin": "*",
      "X-Seen-Forwarded-For": String(req.headers["x-forwarded-for"] ?? ""),
      "X-Seen-Host": String(req.headers.host ?? ""),
      "X-Seen-Custom": String(req.headers["x-custom"] ?? ""),
    });
    res.end(JSON.stringify({ name }));
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return {
    url: `${tlsOptions ? "https" : "http"}://${host}:${(server.address() as net.AddressInfo).port}`,
    hits,
    hungUp: (path) => hangUp(path).promise,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export function membersJSON(
  list: { id: string; name: string; peer: string; client?: string }[],
): string {
  return `[${
    list.map((m) =>
      `{"id":${m.id},"peerURLs":["${m.peer}"],"name":"${m.name}","clientURLs":[${
        m.client ? `"${m.client}"` : ""
      }]}`
    ).join(",")
  }]`;
}

/** A GET whose path goes out exactly as written (fetch would normalise it). */
export function rawGet(
  host: string,
  port: number,
  path: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false }, async (res) => {
      let body = "";
      for await (const c of res) body += new TextDecoder().decode(c as Uint8Array);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
    });
    req.on("error", reject);
  });
}

function serve(tlsOptions: tls.TlsOptions | undefined, handler: http.RequestListener): http.Server {
  return tlsOptions ? https.createServer(tlsOptions, handler) : http.createServer(handler);
}
