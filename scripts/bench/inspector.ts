// A V8 inspector session with a member started with --inspect: evaluates code in it (the
// event-loop lag sampler below) and records CPU profiles, without changing the member's code.

export class Inspector {
  private next = 1;
  private readonly pending = new Map<number, (m: CdpReply) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data as string) as CdpReply;
      if (m.id === undefined) return; // an event
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    };
    ws.onclose = () => {
      for (const settle of this.pending.values()) {
        settle({ error: { message: "inspector closed" } });
      }
      this.pending.clear();
    };
  }

  /** Attaches to the one target the member's inspector at `hostPort` lists. */
  static async open(hostPort: string): Promise<Inspector> {
    const res = await fetch(`http://${hostPort}/json/list`);
    const [target] = await res.json() as { webSocketDebuggerUrl: string }[];
    if (!target) throw new Error(`no inspector target at ${hostPort}`);
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`inspector at ${hostPort} refused the session`));
    });
    return new Inspector(ws);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => {
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result ?? {});
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The value of `expression` evaluated in the member's main realm. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true });
    const details = r.exceptionDetails as { text?: string } | undefined;
    if (details) throw new Error(`evaluate failed: ${details.text}`);
    return (r.result as { value: T }).value;
  }

  async startProfile(): Promise<void> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: 1000 });
    await this.send("Profiler.start");
  }

  /** The CPU profile since startProfile (Chrome DevTools' .cpuprofile format). */
  async stopProfile(): Promise<unknown> {
    return (await this.send("Profiler.stop")).profile;
  }

  close(): void {
    this.ws.close();
  }
}

interface CdpReply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** Sampler period: a timer due every LAG_PERIOD_MS that fires late measures the stall. */
export const LAG_PERIOD_MS = 10;
const STATE = "globalThis.__etcdTsBenchLag";

/** (Re)starts the member's lag sampler: an unref'd interval timer noting how late it fires. */
export function startLagSampler(i: Inspector, overMs: number): Promise<unknown> {
  return i.evaluate(`(() => {
    const s = ${STATE} ??= {};
    clearInterval(s.timer);
    Object.assign(s, { max: 0, over: 0, last: performance.now() });
    s.timer = setInterval(() => {
      const now = performance.now(), lag = now - s.last - ${LAG_PERIOD_MS};
      s.last = now;
      if (lag > s.max) s.max = lag;
      if (lag > ${overMs}) s.over++;
    }, ${LAG_PERIOD_MS});
    Deno.unrefTimer(s.timer);
    return true;
  })()`);
}

/** Stops the sampler: the longest lag seen (ms) and how many exceeded `overMs`. */
export function readLagSampler(i: Inspector): Promise<{ max: number; over: number }> {
  return i.evaluate(`(() => {
    const s = ${STATE};
    clearInterval(s.timer);
    return { max: s.max, over: s.over };
  })()`);
}
