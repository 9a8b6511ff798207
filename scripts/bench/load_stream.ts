// The streaming workloads: watch fan-out (one writer, many watch streams on the key it writes:
// the unit is an event delivered) and lease keep-alives (one LeaseKeepAlive stream per in-flight
// slot, each request answered in order on its stream).

import {
  type ClientConnection,
  type GrpcError,
  streamCall,
  unaryCall,
} from "../../tests/support/h2/mod.ts";
import { messages } from "../../src/pb/mod.ts";
import { countField, encodePutRequest } from "./pb.ts";
import {
  benchValue,
  type Load,
  type LoadConfig,
  type Meter,
  openConnections,
} from "./load_core.ts";

const WATCH = "/etcdserverpb.Watch/Watch";
const KEEP_ALIVE = "/etcdserverpb.Lease/LeaseKeepAlive";
const PUT = "/etcdserverpb.KV/Put";
/** WatchResponse.events */
const EVENTS_FIELD = 11;
export const WATCH_KEY = "/bench/watched";

const closeAll = (conns: ClientConnection[]) => () => conns.forEach((c) => c.destroy());

/** Opens one watch stream on `key`; resolves once the member says it is created. */
function openWatcher(conn: ClientConnection, key: Uint8Array, meter: Meter): Promise<void> {
  const request = messages["etcdserverpb.WatchRequest"].encode({ createRequest: { key } });
  return new Promise((resolve, reject) => {
    let created = false;
    streamCall(conn, WATCH, {
      message(m) {
        if (!created) {
          created = true;
          return resolve();
        }
        meter.add(countField(m, EVENTS_FIELD));
      },
      end(err?: GrpcError) {
        if (!created) reject(err ?? new Error("watch stream ended before it was created"));
        else if (err) meter.fail(err);
      },
    }, { request });
  });
}

/** `watchers` watch streams over the connections, and a writer on a connection of its own. */
export async function makeWatchLoad(cfg: LoadConfig, meter: Meter): Promise<Load> {
  const conns = await openConnections(cfg);
  const [writer] = await openConnections({ ...cfg, connections: 1 });
  const key = new TextEncoder().encode(WATCH_KEY);
  const watchers = cfg.watchers ?? 1000;
  await Promise.all(
    Array.from({ length: watchers }, (_, i) => openWatcher(conns[i % conns.length], key, meter)),
  );
  const put = encodePutRequest({ key, value: benchValue(cfg.valueSize) });
  return {
    timed: false,
    async op() {
      await unaryCall(writer, PUT, put);
      meter.count("writes");
    },
    close: closeAll([...conns, writer]),
  };
}

/** One LeaseKeepAlive stream: a request, then its answer (answers come in request order). */
class KeepAliveStream {
  private readonly waiting: { resolve(): void; reject(e: Error): void }[] = [];
  private readonly call;

  constructor(conn: ClientConnection) {
    const decode = messages["etcdserverpb.LeaseKeepAliveResponse"].decode;
    this.call = streamCall(conn, KEEP_ALIVE, {
      message: (m) => {
        const w = this.waiting.shift();
        // etcd answers a keep-alive of an unknown lease with TTL 0
        if (decode(m).TTL > 0) w?.resolve();
        else w?.reject(new Error("keep-alive of a lease the member does not know"));
      },
      end: (err) => {
        const why = err ?? new Error("keep-alive stream ended");
        for (const w of this.waiting.splice(0)) w.reject(why);
      },
    });
  }

  keepAlive(request: Uint8Array): Promise<void> {
    if (this.call.closed) return Promise.reject(new Error("keep-alive stream closed"));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.call.send(request);
    });
  }
}

/** Keep-alives for leases 1..leases (granted beforehand), round-robin, one stream per slot. */
export async function makeKeepAliveLoad(cfg: LoadConfig, _meter: Meter): Promise<Load> {
  const conns = await openConnections(cfg);
  const leases = cfg.leases ?? 10_000;
  const encode = messages["etcdserverpb.LeaseKeepAliveRequest"].encode;
  const requests = Array.from({ length: leases }, (_, i) => encode({ ID: i + 1 }));
  const streams = Array.from(
    { length: cfg.inflight },
    (_, s) => new KeepAliveStream(conns[s % conns.length]),
  );
  let next = 0;
  return {
    timed: true,
    op: (slot) => streams[slot].keepAlive(requests[next++ % leases]),
    close: closeAll(conns),
  };
}
