// Real etcd-ts (and etcd) processes for integration tests: the flags that place a member, start,
// watch log lines, run a command to its end, stop. Every integration test prints its wall time.

const repo = new URL("../../", import.meta.url).pathname;
export const ETCD_TS = `${repo}scripts/etcd-ts`;

/** Deno.test that prints how long the test took (integration files are read by humans too). */
export function itest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const start = performance.now();
      try {
        await fn();
      } finally {
        console.log(`  [${name}] ${((performance.now() - start) / 1000).toFixed(1)} s`);
      }
    },
  });
}

export interface Proc {
  pid: number;
  /** Every stderr line so far (etcd logs to stderr). */
  lines: string[];
  stdout: string[];
  /** Resolves with the first log line matching, rejects when the process exits first. */
  waitFor(
    pattern: RegExp | string | ((line: string) => boolean),
    timeoutMs?: number,
    /** Only lines from this index on count: pass lines.length taken before an event. */
    since?: number,
  ): Promise<string>;
  kill(signal?: Deno.Signal): void;
  status: Promise<Deno.CommandStatus>;
}

function lineReader(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  return (async () => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    if (buf) onLine(buf);
  })();
}

/** Starts `command args`, collecting its output; nothing is awaited yet. */
export function spawn(
  command: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; clearEnv?: boolean } = {},
): Proc {
  const child = new Deno.Command(command, {
    args,
    env: opts.env,
    cwd: opts.cwd,
    clearEnv: opts.clearEnv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const stdout: string[] = [];
  const watchers: { re: { test(l: string): boolean }; resolve(l: string): void }[] = [];
  const onLine = (target: string[]) => (line: string) => {
    target.push(line);
    for (const w of [...watchers]) {
      if (w.re.test(line)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  const done = Promise.all([
    lineReader(child.stderr, onLine(lines)),
    lineReader(child.stdout, onLine(stdout)),
  ]);
  const status = done.then(() => child.status);
  return {
    pid: child.pid,
    lines,
    stdout,
    status,
    kill: (signal: Deno.Signal = "SIGTERM") => {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    },
    waitFor: (pattern, timeoutMs = 20_000, since = 0) => {
      const re = typeof pattern === "string"
        ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        : typeof pattern === "function"
        ? { test: pattern, toString: () => String(pattern) }
        : pattern;
      const seen = [...lines.slice(since), ...stdout].find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`timed out waiting for ${re}; log:\n${lines.slice(-30).join("\n")}`));
        }, timeoutMs);
        const w = {
          re,
          resolve: (l: string) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        watchers.push(w);
        status.then((s) => {
          clearTimeout(timer);
          if (watchers.includes(w)) {
            reject(
              new Error(
                `process exited (${s.code}) before ${re}; log:\n${lines.slice(-30).join("\n")}`,
              ),
            );
          }
        });
      });
    },
  };
}

/** Starts an etcd-ts member through scripts/etcd-ts. */
export function startEtcdTs(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Proc {
  return spawn(ETCD_TS, args, opts);
}

/** Starts a member and waits until it serves clients. */
export async function startReady(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Proc> {
  return await readyToServe(startEtcdTs(args, opts));
}

/** Starts a real etcd 3.4 member (for side-by-side checks) and waits until it serves clients. */
export async function startReadyEtcd(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Proc> {
  return await readyToServe(spawn("etcd", args, opts));
}

/** A member that does not come up is stopped: the caller never holds it. */
async function readyToServe(p: Proc): Promise<Proc> {
  try {
    await p.waitFor("ready to serve client requests", 30_000);
  } catch (err) {
    await stop(p);
    throw err;
  }
  return p;
}

/** The process's exit status; fails (and kills it) if it still runs after `ms`: for a process
 * that must stop by itself. */
export async function exited(p: Proc, ms = 20_000): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(
        new Error(`the process did not stop within ${ms} ms:\n${p.lines.slice(-30).join("\n")}`),
      );
    }, ms);
  });
  try {
    return await Promise.race([p.status, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops a process (SIGTERM, then SIGKILL after a grace period) and waits for it. */
export async function stop(p: Proc, graceMs = 10_000): Promise<Deno.CommandStatus> {
  p.kill("SIGTERM");
  const timer = setTimeout(() => p.kill("SIGKILL"), graceMs);
  const s = await p.status;
  clearTimeout(timer);
  return s;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(
  command: string,
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<Run> {
  const child = new Deno.Command(command, {
    args,
    env: opts.env,
    cwd: opts.cwd,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Where a member listens and what it advertises: one client and one peer URL. */
export interface MemberURLs {
  name: string;
  clientURL: string;
  peerURL: string;
  /** Left out, the member uses etcd's default (`<name>.etcd` in its working directory). */
  dataDir?: string;
}

/** The flags that put member `m` on its URLs and in its data dir (not its cluster). */
export function memberFlags(m: MemberURLs): string[] {
  return [
    "--name",
    m.name,
    ...(m.dataDir === undefined ? [] : ["--data-dir", m.dataDir]),
    "--listen-client-urls",
    m.clientURL,
    "--advertise-client-urls",
    m.clientURL,
    "--listen-peer-urls",
    m.peerURL,
    "--initial-advertise-peer-urls",
    m.peerURL,
  ];
}

/** The flags of a member alone in its cluster on `ip` with etcd's ports. */
export function singleMemberFlags(name: string, ip: string, dataDir?: string): string[] {
  const peerURL = `http://${ip}:2380`;
  return [
    ...memberFlags({ name, clientURL: `http://${ip}:2379`, peerURL, dataDir }),
    "--initial-cluster",
    `${name}=${peerURL}`,
  ];
}

/** One series' value from a member's /metrics (NaN when it is not there). */
export async function metricValue(clientURL: string, series: string): Promise<number> {
  const text = await (await fetch(`${clientURL}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}
