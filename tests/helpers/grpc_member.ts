// A gRPC client of a running member (etcd or etcd-ts) for integration tests: grpc-js with our
// codecs, any method of the schema by service and name; answers and errors as plain values so
// two members' transcripts can be compared.
import * as grpc from "@grpc/grpc-js";
import { type MessageName, messages, schema, type ServiceTypes } from "../../src/pb/mod.ts";

type ServiceName = keyof ServiceTypes;

export type Answer =
  // deno-lint-ignore no-explicit-any
  | { ok: any }
  | { error: { code: number; details: string } };

export interface CallOptions {
  /** The auth token sent as `token` metadata, as etcd's clients do. */
  token?: string;
  deadlineMs?: number;
}

/** A server stream being read: what arrived so far, and how it ended. */
export interface Stream {
  // deno-lint-ignore no-explicit-any
  messages: any[];
  /** Resolves once `n` messages arrived (rejects after `timeoutMs` or when the stream ends). */
  received(n: number, timeoutMs?: number): Promise<void>;
  ended: Promise<{ code: number; details: string }>;
  cancel(): void;
}

export class GrpcMember {
  readonly client: grpc.Client;

  constructor(target: string) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure());
  }

  #method(service: ServiceName, method: string) {
    const m = schema.services[service].methods[method];
    const req = messages[m.requestType as MessageName];
    const res = messages[m.responseType as MessageName];
    return {
      path: `/${service}/${method}`,
      // deno-lint-ignore no-explicit-any
      serialize: (msg: any) => Buffer.from(req.encode(msg)),
      deserialize: (buf: Buffer) => res.decode(buf),
    };
  }

  #metadata(opts: CallOptions): grpc.Metadata {
    const md = new grpc.Metadata();
    if (opts.token) md.set("token", opts.token);
    return md;
  }

  call(service: ServiceName, method: string, req: unknown, opts: CallOptions = {}) {
    const m = this.#method(service, method);
    const options = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
    return new Promise<Answer>((resolve) => {
      this.client.makeUnaryRequest(
        m.path,
        m.serialize,
        m.deserialize,
        req,
        this.#metadata(opts),
        options,
        (err, res) =>
          resolve(err ? { error: { code: err.code, details: err.details } } : { ok: res }),
      );
    });
  }

  stream(service: ServiceName, method: string, req: unknown, opts: CallOptions = {}): Stream {
    const m = this.#method(service, method);
    const call = this.client.makeServerStreamRequest(
      m.path,
      m.serialize,
      m.deserialize,
      req,
      this.#metadata(opts),
      {},
    );
    // deno-lint-ignore no-explicit-any
    const got: any[] = [];
    const waiters: (() => void)[] = [];
    call.on("data", (msg) => {
      got.push(msg);
      waiters.splice(0).forEach((w) => w());
    });
    const ended = new Promise<{ code: number; details: string }>((resolve) => {
      call.on("status", (s) => resolve({ code: s.code, details: s.details }));
    });
    call.on("error", () => {}); // the status carries it
    return {
      messages: got,
      ended,
      cancel: () => call.cancel(),
      received: async (n, timeoutMs = 10_000) => {
        const deadline = Date.now() + timeoutMs;
        while (got.length < n) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const what = await Promise.race([
            new Promise<void>((resolve) => waiters.push(resolve)),
            ended,
            new Promise<"timeout">((r) => {
              timer = setTimeout(() => r("timeout"), Math.max(0, deadline - Date.now()));
            }),
          ]);
          clearTimeout(timer);
          if (what !== undefined && got.length < n) {
            throw new Error(`stream has ${got.length} of ${n} messages (${JSON.stringify(what)})`);
          }
        }
      },
    };
  }

  close(): void {
    this.client.close();
  }
}

/** Polls `check` until it holds (a state reached by another party; no event to wait on). */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
