// One etcd-ts member process inside its namespace: started through scripts/etcd-ts (which execs
// deno, so the PID is the server's and signals reach it), its log kept in a file with the last
// lines in memory, its resident memory read from /proc.

import { ETCD_TS } from "../../helpers/process.ts";

const TAIL = 200;

export class MemberProcess {
  readonly tail: string[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  readonly pid: number;
  /** How it ended, once it has. */
  exit?: Deno.CommandStatus;
  private readonly child: Deno.ChildProcess;
  private readonly waiters: { re: RegExp; resolve(line: string): void }[] = [];

  /** Starts `etcd-ts args` in namespace `ns`, appending its log to `logFile`. */
  constructor(ns: string, args: string[], logFile: string, env: Record<string, string> = {}) {
    this.child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, ETCD_TS, ...args],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.child.pid;
    const log = Deno.openSync(logFile, { create: true, append: true });
    const done = Promise.all([
      this.read(this.child.stderr, log),
      this.read(this.child.stdout, log),
    ]).finally(() => log.close());
    this.status = done.then(() => this.child.status).then((s) => this.exit = s);
  }

  private async read(stream: ReadableStream<Uint8Array>, log: Deno.FsFile): Promise<void> {
    const enc = new TextEncoder();
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      log.writeSync(enc.encode(chunk));
      buf += chunk;
      let n;
      while ((n = buf.indexOf("\n")) >= 0) {
        this.line(buf.slice(0, n));
        buf = buf.slice(n + 1);
      }
    }
  }

  private line(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL) this.tail.shift();
    for (const w of [...this.waiters]) {
      if (w.re.test(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }

  /** The first line from now on matching `re`; rejects if the process exits or time runs out. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${re}; last lines:\n${this.lastLines()}`));
      }, timeoutMs);
      const waiter = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.push(waiter);
      this.status.then((s) => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`exited (${s.code}) before ${re}; last lines:\n${this.lastLines()}`));
      });
    });
  }

  lastLines(n = 30): string {
    return this.tail.slice(-n).join("\n");
  }

  signal(signal: Deno.Signal): void {
    try {
      Deno.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Resident set size in bytes, undefined once the process is gone. */
  rss(): number | undefined {
    try {
      const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
      return kb ? Number(kb[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }
}
