// --max-concurrent-streams over the JSON gateway. etcd's gateway is a gRPC client of its own
// port: each listener (and each of its schemes) dials itself once, so every /v3 request is one
// stream on that one HTTP/2 connection, and the server's SETTINGS_MAX_CONCURRENT_STREAMS caps
// them all together: with the cap reached (three /v3/watch streams open under
// --max-concurrent-streams 3, say), the next gateway request waits for a stream to end. Here
// the gateway calls the services directly, so the same cap is a counter per listener scheme.
import type { FetchHandler } from "./fetch_stream.ts";
import { GATEWAY_PATHS } from "./gateway/mod.ts";

/** Stream slots handed out in arrival order. */
export class StreamQuota {
  #inUse = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.#inUse;
  }

  /** Resolves with the slot's release once one is free; undefined if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<(() => void) | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    if (this.#inUse < this.limit) return Promise.resolve(this.#take());
    return new Promise((resolve) => {
      const grant = () => {
        signal.removeEventListener("abort", giveUp);
        resolve(this.#take());
      };
      const giveUp = () => {
        this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        resolve(undefined);
      };
      this.#waiting.push(grant);
      signal.addEventListener("abort", giveUp, { once: true });
    });
  }

  #take(): () => void {
    this.#inUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
      this.#waiting.shift()?.();
    };
  }
}

/** The gateway's requests: a POST to one of its paths (others get an answer without a stream). */
function isGatewayCall(req: Request): boolean {
  if (req.method !== "POST") return false;
  const path = new URL(req.url).pathname;
  const rest = path.startsWith("/v3/")
    ? path.slice(4)
    : path.startsWith("/v3beta/")
    ? path.slice(8)
    : undefined;
  return rest !== undefined && Object.hasOwn(GATEWAY_PATHS, rest);
}

/** `app` with each gateway call holding one of `quota`'s slots until its answer has been sent. */
export function limitGatewayStreams(app: FetchHandler, quota: StreamQuota): FetchHandler {
  return async (req) => {
    if (!isGatewayCall(req)) return app(req);
    const release = await quota.acquire(req.signal);
    // The client went away while waiting: nobody reads this answer.
    if (!release) return new Response(null, { status: 499 });
    req.signal.addEventListener("abort", release, { once: true });
    let res: Response;
    try {
      res = await app(req);
    } catch (err) {
      release();
      throw err;
    }
    if (res.body !== null) return releasedAtEnd(res, release);
    release();
    return res;
  };
}

// The response with a body that gives the slot back once read to its end or cancelled.
function releasedAtEnd(res: Response, release: () => void): Response {
  const reader = res.body!.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        release();
        controller.error(err);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}
