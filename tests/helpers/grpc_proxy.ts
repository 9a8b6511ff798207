// gRPC proxies for integration tests: `etcd-ts grpc-proxy start` or etcd 3.4's own
// `etcd grpc-proxy start`, started until they serve; Prometheus samples read from a URL.
import { ETCD_TS, type Proc, spawn } from "./process.ts";

/** Starts a proxy and waits for etcd's "started gRPC proxy" line. */
export async function startGrpcProxy(
  args: string[],
  opts: { etcd?: boolean } = {},
): Promise<Proc> {
  const p = opts.etcd
    ? spawn("etcd", ["grpc-proxy", "start", ...args])
    : spawn(ETCD_TS, ["grpc-proxy", "start", ...args]);
  await p.waitFor("started gRPC proxy", 30_000);
  return p;
}

/** Prometheus samples in the text format: `name{labels} value` lines. */
export function samples(text: string): { name: string; labels: string; value: number }[] {
  const out = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$/.exec(line);
    if (m) out.push({ name: m[1], labels: m[2] ?? "", value: Number(m[3]) });
  }
  return out;
}

/**
 * The sum of a metric's samples over `urls` (each a /metrics-like URL) whose labels include
 * every `label="value"` pair given.
 */
export async function metricSum(
  urls: string[],
  name: string,
  labels: Record<string, string> = {},
  init: RequestInit = {},
): Promise<number> {
  let sum = 0;
  for (const url of urls) {
    const res = await fetch(url, init);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text}`);
    for (const s of samples(text)) {
      const wanted = Object.entries(labels).every(([k, v]) => s.labels.includes(`${k}="${v}"`));
      if (s.name === name && wanted) sum += s.value;
    }
  }
  return sum;
}
