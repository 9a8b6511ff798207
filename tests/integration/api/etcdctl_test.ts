// etcdctl 3.4 (grpc-go) against our gRPC layer with stub handlers: checks the transport with
// the client etcd users actually run (HPACK, flow control, trailers, bidi streams, errors).

import assert from "node:assert/strict";
import { GrpcServer } from "../../../src/api/mod.ts";
import { Errors } from "../../../src/errors/etcd_errors.ts";
import { startServer } from "../../helpers/grpc.ts";
import { etcdctl, spawnEtcdctl } from "../../helpers/etcdctl.ts";

const te = new TextEncoder();
const td = new TextDecoder();
const header = { clusterId: 0x1234n, memberId: 0x5678n, revision: 7, raftTerm: 2 };

function stubServer(): GrpcServer {
  const store = new Map<string, Uint8Array>();
  const g = new GrpcServer();
  g.addService("etcdserverpb.KV", {
    Put: (req) => {
      if (td.decode(req.key) === "forbidden") return Promise.reject(Errors.permissionDenied());
      store.set(td.decode(req.key), req.value);
      return Promise.resolve({ header });
    },
    Range: (req) => {
      const value = store.get(td.decode(req.key));
      return Promise.resolve({
        header,
        kvs: value ? [{ key: req.key, value, createRevision: 2, modRevision: 7, version: 1 }] : [],
        count: value ? 1 : 0,
      });
    },
  });
  g.addService("etcdserverpb.Watch", {
    Watch: async (requests, send) => {
      for await (const req of requests) {
        if (!req.createRequest) continue;
        await send({ header, watchId: 0, created: true });
        await send({
          header,
          watchId: 0,
          events: [{
            type: 0,
            kv: { key: req.createRequest.key, value: te.encode("v1"), modRevision: 8 },
          }],
        });
      }
    },
  });
  return g;
}

Deno.test("etcdctl 3.4: put, get, errors and watch over our gRPC layer", async () => {
  const fx = await startServer("127.0.60.30", stubServer());
  const ep = `http://${fx.target}`;
  try {
    let r = await etcdctl(ep, "put", "foo", "bar");
    assert.equal(r.stdout, "OK\n", r.stderr);
    r = await etcdctl(ep, "get", "foo");
    assert.equal(r.stdout, "foo\nbar\n", r.stderr);
    r = await etcdctl(ep, "get", "foo", "-w", "json");
    const json = JSON.parse(r.stdout);
    assert.equal(json.header.cluster_id, 0x1234);
    assert.equal(json.kvs[0].mod_revision, 7);
    r = await etcdctl(ep, "put", "forbidden", "x");
    assert.equal(r.code, 1);
    // (etcdctl also logs its retry interceptor's warning before the error line.)
    assert.ok(r.stderr.endsWith("\nError: etcdserver: permission denied\n"), r.stderr);
    r = await etcdctl(ep, "endpoint", "health");
    assert.match(r.stderr + r.stdout, /is healthy: successfully committed proposal/);

    const watch = spawnEtcdctl(ep, ["watch", "w"]);
    try {
      await watch.waitFor((l) => l === "v1", 5000);
    } finally {
      watch.kill();
      await watch.status;
    }
    assert.deepEqual(watch.stdout, ["PUT", "w", "v1"]);
  } finally {
    await fx.close();
  }
});
