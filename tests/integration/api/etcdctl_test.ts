// etcdctl 3.4 (grpc-go) against our gRPC layer with stub handlers: checks the transport with
// the client etcd users actually run (HPACK, flow control, trailers, bidi streams, errors).

import assert from "node:assert/strict";
import { GrpcServer } from "../../../src/api/mod.ts";
import { Errors } from "../../../src/errors/etcd_errors.ts";
import { startServer } from "../../helpers/grpc.ts";

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

async function etcdctl(endpoint: string, ...args: string[]) {
  const o = await new Deno.Command("etcdctl", {
    args: [`--endpoints=${endpoint}`, "--command-timeout=3s", ...args],
    env: { ETCDCTL_API: "3" },
  }).output();
  return { code: o.code, out: td.decode(o.stdout), err: td.decode(o.stderr) };
}

Deno.test("etcdctl 3.4: put, get, errors and watch over our gRPC layer", async () => {
  const fx = await startServer("127.0.60.30", stubServer());
  const ep = `http://${fx.target}`;
  try {
    let r = await etcdctl(ep, "put", "foo", "bar");
    assert.equal(r.out, "OK\n", r.err);
    r = await etcdctl(ep, "get", "foo");
    assert.equal(r.out, "foo\nbar\n", r.err);
    r = await etcdctl(ep, "get", "foo", "-w", "json");
    const json = JSON.parse(r.out);
    assert.equal(json.header.cluster_id, 0x1234);
    assert.equal(json.kvs[0].mod_revision, 7);
    r = await etcdctl(ep, "put", "forbidden", "x");
    assert.equal(r.code, 1);
    // (etcdctl also logs its retry interceptor's warning before the error line.)
    assert.ok(r.err.endsWith("\nError: etcdserver: permission denied\n"), r.err);
    r = await etcdctl(ep, "endpoint", "health");
    assert.match(r.err + r.out, /is healthy: successfully committed proposal/);

    const watch = new Deno.Command("etcdctl", {
      args: [`--endpoints=${ep}`, "watch", "w"],
      env: { ETCDCTL_API: "3" },
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = watch.stdout.getReader();
    let out = "";
    const deadline = Date.now() + 5000;
    while (!out.includes("v1\n") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += td.decode(value);
    }
    watch.kill("SIGTERM");
    reader.releaseLock();
    await watch.stdout.cancel();
    await watch.status;
    assert.equal(out, "PUT\nw\nv1\n");
  } finally {
    await fx.close();
  }
});
