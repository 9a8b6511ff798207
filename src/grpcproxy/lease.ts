// The Lease service in front of the cluster (etcd's grpcproxy/lease.go): grants, revokes and
// lookups pass through; every client's keep-alives share one upstream LeaseKeepAlive stream
// per auth token, each request answered by the cluster's response for that lease, in order.
// When that stream fails, the requests still waiting go out again on a new one.
import type { ServiceHandlers } from "../api/mod.ts";
import { EtcdError, GrpcCode } from "../errors/mod.ts";
import type { Init, LeaseKeepAliveResponse, LeaseTimeToLiveResponse } from "../pb/mod.ts";
import { callOf } from "./kv.ts";
import type { Namespace } from "./namespace.ts";
import { passThrough } from "./passthrough.ts";
import type { Upstream, UpstreamCall } from "./upstream.ts";

const RESEND_DELAY_MS = 500;

type Reply = (resp: LeaseKeepAliveResponse) => void;

/** One upstream keep-alive stream and the client requests waiting for its answers. */
class KeepAlives {
  private call: UpstreamCall | undefined;
  private opening = false;
  // Lease ID -> the clients waiting for its next responses, oldest first.
  private readonly waiting = new Map<bigint, Reply[]>();

  constructor(private readonly up: Upstream, private readonly token: string) {}

  request(id: bigint, reply: Reply): void {
    const list = this.waiting.get(id) ?? [];
    list.push(reply);
    this.waiting.set(id, list);
    if (this.call) this.call.send({ ID: id });
    else this.open();
  }

  /** A client stream ended: its requests need no answers. */
  forget(reply: Reply): void {
    for (const [id, list] of this.waiting) {
      const rest = list.filter((r) => r !== reply);
      if (rest.length > 0) this.waiting.set(id, rest);
      else this.waiting.delete(id);
    }
  }

  private open(): void {
    if (this.opening) return;
    this.opening = true;
    this.up.open("etcdserverpb.Lease", "LeaseKeepAlive", {
      message: (resp) => this.answer(resp as LeaseKeepAliveResponse),
      end: () => {
        this.call = undefined;
        // Whatever is still waiting goes out again on a new stream.
        if (this.waiting.size > 0) setTimeout(() => this.open(), RESEND_DELAY_MS);
      },
    }, { token: this.token || undefined }).then((call) => {
      this.opening = false;
      this.call = call;
      for (const [id, list] of this.waiting) for (const _ of list) call.send({ ID: id });
    }, () => (this.opening = false));
  }

  private answer(resp: LeaseKeepAliveResponse): void {
    const list = this.waiting.get(resp.ID);
    const reply = list?.shift();
    if (list?.length === 0) this.waiting.delete(resp.ID);
    reply?.(resp);
  }

  close(): void {
    this.waiting.clear();
    this.call?.cancel();
  }
}

export class LeaseProxy {
  private readonly keepAlives = new Map<string, KeepAlives>();

  constructor(private readonly up: Upstream, private readonly ns: Namespace | undefined) {}

  service(): ServiceHandlers<"etcdserverpb.Lease"> {
    const up = this.up;
    return {
      ...passThrough(up, "etcdserverpb.Lease", ["LeaseTimeToLive"]),
      LeaseTimeToLive: async (req, ctx) => {
        const resp = await up.unary<LeaseTimeToLiveResponse>(
          "etcdserverpb.Lease",
          "LeaseTimeToLive",
          req,
          callOf(ctx),
        );
        const ns = this.ns;
        return ns ? { ...resp, keys: resp.keys.map((k) => ns.strip(k)) } : resp;
      },
      LeaseKeepAlive: async (requests, send, ctx) => {
        const token = ctx.metadata["token"] ?? "";
        let ka = this.keepAlives.get(token);
        if (!ka) this.keepAlives.set(token, ka = new KeepAlives(up, token));
        let failed!: (e: unknown) => void;
        const failure = new Promise<never>((_, reject) => (failed = reject));
        failure.catch(() => {});
        ctx.signal.addEventListener("abort", () => failed(ctx.signal.reason), { once: true });
        // Answers go out in the order they come; a send that fails ends the stream.
        let sending = Promise.resolve();
        const reply: Reply = (resp) => {
          sending = sending.then(() => send(resp as Init<LeaseKeepAliveResponse>)).catch(failed);
        };
        const serve = async () => {
          for await (const req of requests) ka.request(req.ID, reply);
        };
        try {
          await Promise.race([serve(), failure]);
        } finally {
          ka.forget(reply);
        }
        throw new EtcdError(GrpcCode.Canceled, "context canceled");
      },
    };
  }

  close(): void {
    for (const ka of this.keepAlives.values()) ka.close();
  }
}
