// Which members the proxy forwards to (etcd's httpproxy director): the client URLs of the last
// refresh, shuffled at each refresh so that proxies do not all stick to one member. A member
// that fails a request is left out for --proxy-failure-wait, then retried.
import type { Logger } from "../log/mod.ts";

/** etcd's default --proxy-refresh-interval; from this value on, an empty list refreshes at 1 s. */
const DEFAULT_REFRESH_MS = 30_000;
const EMPTY_REFRESH_MS = 1_000;

export class Endpoint {
  available = true;
  #timer?: ReturnType<typeof setTimeout>;

  constructor(
    readonly url: string,
    readonly failureWaitMs: number,
    readonly log: Logger,
  ) {}

  /** Marks the endpoint unavailable (once) and schedules its return. */
  failed(): void {
    if (!this.available) return;
    this.available = false;
    this.log.info({
      pkg: "proxy/httpproxy",
      text: `marked endpoint ${this.url} unavailable`,
      msg: "marked endpoint unavailable",
      fields: { endpoint: this.url },
    });
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.available = true;
      this.log.info({
        pkg: "proxy/httpproxy",
        text: `marked endpoint ${this.url} available, to retest connectivity`,
        msg: "marked endpoint available, to retest connectivity",
        fields: { endpoint: this.url },
      });
    }, this.failureWaitMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

export interface DirectorOptions {
  /** The current client URLs of the cluster (errors are the callback's to log). */
  urls: () => Promise<string[]>;
  failureWaitMs: number;
  refreshIntervalMs: number;
  log: Logger;
  random?: () => number;
}

export class Director {
  #endpoints: Endpoint[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #stopped = false;
  #announced = false;
  readonly #random: () => number;

  constructor(readonly opts: DirectorOptions) {
    this.#random = opts.random ?? Math.random;
  }

  /** The first refresh, then the periodic ones. */
  async start(): Promise<void> {
    await this.refresh();
    this.#schedule();
  }

  /** Available endpoints, in this refresh's shuffled order. */
  endpoints(): Endpoint[] {
    return this.#endpoints.filter((e) => e.available);
  }

  async refresh(): Promise<void> {
    let urls: string[];
    try {
      urls = await this.opts.urls();
    } catch (err) {
      this.opts.log.warn({
        pkg: "proxy/httpproxy",
        text: `failed to refresh endpoints: ${(err as Error).message}`,
      });
      urls = [];
    }
    if (this.#stopped) return;
    const next: Endpoint[] = [];
    for (const u of urls) {
      try {
        new URL(u);
      } catch {
        this.opts.log.info({
          pkg: "proxy/httpproxy",
          text: `upstream URL invalid: parse ${JSON.stringify(u)}: invalid URI for request`,
          msg: "upstream URL invalid",
          fields: { url: u },
        });
        continue;
      }
      next.push(new Endpoint(u, this.opts.failureWaitMs, this.opts.log));
    }
    // Fisher-Yates from the front, as etcd shuffles.
    for (let i = 0; i < next.length; i++) {
      const j = Math.floor(this.#random() * (i + 1));
      [next[i], next[j]] = [next[j], next[i]];
    }
    for (const e of this.#endpoints) e.stop();
    this.#endpoints = next;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const available = this.endpoints();
    if (available.length > 0 && !this.#announced) {
      this.#announced = true; // etcd logs the list once, the first time it is non-empty
      const list = available.map((e) => JSON.stringify(e.url)).join(" ");
      this.opts.log.info({
        pkg: "proxy/httpproxy",
        text: `endpoints found [${list}]`,
        msg: "endpoints found",
        fields: { endpoints: available.map((e) => e.url) },
      });
    }
    let wait = this.opts.refreshIntervalMs;
    if (wait >= DEFAULT_REFRESH_MS && available.length === 0) wait = EMPTY_REFRESH_MS;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      await this.refresh();
      this.#schedule();
    }, wait);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const e of this.#endpoints) e.stop();
  }
}
