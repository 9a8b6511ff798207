// The small v2 keys client discovery uses (etcd's client/v2 as the discovery code drives it):
// requests go to <endpoint><token path>…, answers are v2 JSON with X-Etcd-Index. Failures are
// classified as etcd's client does, because discovery retries only cluster errors.
import type { NodeExtern } from "../v2store/mod.ts";
import { V2Error } from "../v2store/mod.ts";

/** Connection-level failure or a 5xx answer: discovery retries these with backoff. */
export class ClusterError extends Error {
  constructor(readonly details: string[]) {
    super(`client: etcd cluster is unavailable or misconfigured; ${detail(details)}`);
  }
  /** etcd's ClusterError.Detail(). */
  detail(): string {
    return detail(this.details);
  }
}

function detail(errors: string[]): string {
  return errors.map((e, i) => `error #${i}: ${e}`).join("\n");
}

/** A request that outlived its 5 s timeout (final, as in etcd). */
export class DeadlineError extends Error {
  constructor() {
    super("context deadline exceeded");
  }
}

export class InvalidJSONError extends Error {
  constructor() {
    super(
      "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.",
    );
  }
}

export interface KeysResponse {
  action: string;
  node: NodeExtern;
  prevNode?: NodeExtern;
  /** X-Etcd-Index of the answer. */
  index: number;
}

/** etcd's client.DefaultRequestTimeout. */
const REQUEST_TIMEOUT_MS = 5000;

export class KeysClient {
  constructor(
    /** scheme://host[:port], no path. */
    readonly endpoint: string,
    readonly httpClient?: Deno.HttpClient,
  ) {}

  get(key: string): Promise<KeysResponse> {
    return this.#do("GET", `${key}?quorum=false&recursive=false&sorted=false`, REQUEST_TIMEOUT_MS);
  }

  /** PUT with prevExist=false: create only. */
  create(key: string, value: string): Promise<KeysResponse> {
    const body = new URLSearchParams({ value }).toString();
    return this.#do("PUT", `${key}?prevExist=false`, REQUEST_TIMEOUT_MS, body);
  }

  /** One long poll: the first event at or after waitIndex (no timeout, as etcd's watcher). */
  watch(key: string, recursive: boolean, waitIndex: number, signal?: AbortSignal) {
    return this.#do(
      "GET",
      `${key}?recursive=${recursive}&wait=true&waitIndex=${waitIndex}`,
      undefined,
      undefined,
      signal,
    );
  }

  async #do(
    method: string,
    pathAndQuery: string,
    timeoutMs?: number,
    body?: string,
    signal?: AbortSignal,
  ): Promise<KeysResponse> {
    const url = this.endpoint + pathAndQuery;
    const signals = [signal, timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined]
      .filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        body,
        headers: body === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" },
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
        client: this.httpClient,
      });
      text = await res.text();
    } catch (err) {
      if (err instanceof DOMException && err.name === "TimeoutError") throw new DeadlineError();
      if (signal?.aborted) throw err;
      throw new ClusterError([dialError(this.endpoint, err)]);
    }
    if (res.status >= 500) {
      const why = res.status === 500 || res.status === 503
        ? `client: etcd member ${this.endpoint} has no leader`
        : `client: etcd member ${this.endpoint} returns server error [${res.statusText}]`;
      throw new ClusterError([why]);
    }
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InvalidJSONError();
    }
    if (res.status !== 200 && res.status !== 201) {
      if (typeof parsed?.errorCode !== "number") throw new InvalidJSONError();
      throw V2Error.fromJSON(parsed);
    }
    return {
      action: parsed.action,
      node: parsed.node ?? {},
      prevNode: parsed.prevNode,
      index: Number(res.headers.get("x-etcd-index") ?? 0),
    };
  }
}

/** Go's wording for a failed dial, which etcd's logs show. */
function dialError(endpoint: string, err: unknown): string {
  const host = new URL(endpoint).host;
  const msg = err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : String(err);
  if (/refused/i.test(msg)) return `dial tcp ${host}: connect: connection refused`;
  if (/timed out/i.test(msg)) return `dial tcp ${host}: i/o timeout`;
  return err instanceof Error ? err.message : String(err);
}
