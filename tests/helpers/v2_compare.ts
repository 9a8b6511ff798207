// Side by side with etcd 3.4 over its v2 API: one etcd-ts member and one real etcd member, both
// with --enable-v2; `ETCDCTL_API=2 etcdctl` transcripts; HTTP exchanges written out as text with
// what legitimately differs between two clusters (cluster IDs, v2 indexes) normalised.
import { type Proc, run, singleMemberFlags, startReady, startReadyEtcd, stop } from "./process.ts";
import { assertPortsFree } from "./ports.ts";
import { tempDir } from "./tmp.ts";

export interface Pair {
  /** Client URLs: etcd-ts's and etcd's. */
  ours: string;
  theirs: string;
  procs: Proc[];
  /** Stops etcd-ts and starts it again on its data dir. */
  restartOurs(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * etcd-ts on `<block>.1` and etcd 3.4 on `<block>.2`; with `tls`, their client URLs are https
 * and `tls(i)` gives member i's TLS flags (i = 0 for etcd-ts, 1 for etcd).
 */
export async function startPair(block: string, tls?: (i: number) => string[]): Promise<Pair> {
  const dir = tempDir().path;
  const ips = [`${block}.1`, `${block}.2`];
  for (const ip of ips) await assertPortsFree(ip, [2379, 2380]);
  const flags = (i: number) => {
    const f = [...singleMemberFlags(`v2-${i}`, ips[i], `${dir}/m${i}`), "--enable-v2"];
    if (!tls) return f;
    const client = `https://${ips[i]}:2379`;
    return [...f.map((x) => x === `http://${ips[i]}:2379` ? client : x), ...tls(i)];
  };
  const procs: Proc[] = [];
  const stopAll = async () => {
    await Promise.all(procs.map((p) => stop(p)));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const [ours, theirs] = await Promise.all([startReady(flags(0)), startReadyEtcd(flags(1))]);
    procs.push(ours, theirs);
    // etcd's cluster version write follows readiness; the auth capability waits for it.
    await theirs.waitFor("enabled capabilities for version 3.4");
  } catch (err) {
    await stopAll();
    throw err;
  }
  const scheme = tls ? "https" : "http";
  return {
    ours: `${scheme}://${ips[0]}:2379`,
    theirs: `${scheme}://${ips[1]}:2379`,
    procs,
    restartOurs: async () => {
      await stop(procs[0]);
      procs[0] = await startReady(flags(0));
    },
    stop: stopAll,
  };
}

/** One `ETCDCTL_API=2 etcdctl` command as a transcript entry: command, output, exit code. */
export async function v2ctl(
  endpoint: string,
  args: string[],
  opts: { global?: string[]; stdin?: string } = {},
): Promise<string> {
  const r = await run("etcdctl", [...opts.global ?? [], "--endpoints", endpoint, ...args], {
    env: { ETCDCTL_API: "2" },
    stdin: opts.stdin,
  });
  return `$ etcdctl ${args.join(" ")}\n${r.stdout}${r.stderr}[exit ${r.code}]\n`;
}

/** Runs the same commands against both members; the two transcripts. */
export async function v2ctlBoth(
  pair: Pair,
  commands: string[][],
  opts: { global?: string[]; stdin?: string } = {},
): Promise<{ ours: string; theirs: string }> {
  let ours = "", theirs = "";
  for (const args of commands) {
    ours += await v2ctl(pair.ours, args, opts);
    theirs += await v2ctl(pair.theirs, args, opts);
  }
  return { ours, theirs };
}

export interface Exchange {
  method?: string;
  path: string;
  body?: string;
  /** user:password for basic auth. */
  auth?: string;
  headers?: Record<string, string>;
}

// The headers a v2 answer is compared on (etcd's CORS headers and dates aside).
const COMPARED = ["allow", "content-type", "x-content-type-options"];

/** An exchange's answer as text: status, compared headers, body; cluster IDs and indexes out. */
export async function exchange(
  endpoint: string,
  e: Exchange,
  fetchInit: RequestInit & { client?: Deno.HttpClient } = {},
): Promise<string> {
  const headers: Record<string, string> = { ...e.headers };
  if (e.auth !== undefined) headers.authorization = `Basic ${btoa(e.auth)}`;
  const res = await fetch(`${endpoint}${e.path}`, {
    ...fetchInit,
    method: e.method ?? "GET",
    headers,
    body: e.body,
  });
  const body = (await res.text()).replace(/"((?:modified|created)?[iI]ndex)":\d+/g, '"$1":<n>');
  const shown = COMPARED.filter((h) => res.headers.has(h)).map((h) =>
    `${h}: ${res.headers.get(h)}`
  );
  if (res.headers.has("x-etcd-cluster-id")) shown.push("x-etcd-cluster-id: <cid>");
  if (res.headers.has("x-etcd-index")) shown.push("x-etcd-index: <n>");
  return `${e.method ?? "GET"} ${e.path} ${e.body ?? ""}\n${res.status}\n${
    shown.sort().join("\n")
  }\n${body}\n`;
}
