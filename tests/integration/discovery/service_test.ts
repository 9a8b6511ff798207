// The discovery service (`etcd-ts discovery-service`): /new, token forwarding, TTL'd tokens,
// /health; backed by a real etcd 3.4 or by the in-process store; real etcd members and our
// client bootstrap from it.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { addV2Routes, localV2 } from "../../../src/api/v2/mod.ts";
import {
  discoveryHandler,
  discoveryMemberId,
  joinCluster,
  type V2Backend,
} from "../../../src/discovery/mod.ts";
import { startEtcd } from "../../helpers/v2.ts";
import { itest, memberFlags, type Proc, spawn } from "../../helpers/process.ts";
import { assertPortsFree } from "../../helpers/ports.ts";

const SERVICE = { hostname: "127.0.91.3", port: 8087 };
const BASE = `http://${SERVICE.hostname}:${SERVICE.port}`;

async function withService(backend: V2Backend, fn: () => Promise<void>, ttl = 3600) {
  await assertPortsFree(SERVICE.hostname, [SERVICE.port]);
  const ac = new AbortController();
  const server = Deno.serve(
    { ...SERVICE, signal: ac.signal, onListen: () => {} },
    discoveryHandler(backend, { advertiseURL: BASE, tokenTTLSeconds: ttl, maxSize: 9 }),
  );
  try {
    await fn();
  } finally {
    ac.abort();
    await server.finished;
  }
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), res };
};

itest(
  "service on a real etcd: /new, three members join, sizes, health, TTL on the token",
  async () => {
    const etcd = await startEtcd("127.0.91.4");
    try {
      await withService((p, init) => fetch(etcd.url + p, init), async () => {
        const created = await get(`${BASE}/new?size=3`);
        assert.equal(created.status, 200);
        assert.match(created.body, /^http:\/\/127\.0\.91\.3:8087\/[0-9a-f]{32}$/);
        const token = created.body.slice(created.body.lastIndexOf("/") + 1);
        const dir = await get(`${etcd.url}/v2/keys/discovery/${token}`);
        assert.match(dir.body, /"dir":true,"expiration":"[^"]+","ttl":3600,/);
        const size = await get(`${created.body}/_config/size`);
        assert.match(size.body, /"key":"\/discovery\/[0-9a-f]{32}\/_config\/size","value":"3"/);

        const url = created.body;
        const results = await Promise.all([1, 2, 3].map((i) => {
          const peer = `http://127.0.91.2${i}:2380`;
          return joinCluster({
            url,
            name: `s${i}`,
            peerURLs: [peer],
            memberId: discoveryMemberId([peer], url),
          });
        }));
        assert.equal(new Set(results).size, 1);
        const listing = await get(url);
        assert.equal(listing.res.headers.get("content-type"), "application/json");
        assert.ok(listing.res.headers.has("x-etcd-index"));
        assert.equal(JSON.parse(listing.body).node.nodes.length, 3, "_config stays hidden");

        assert.equal((await get(`${BASE}/new`)).status, 200, "size defaults to 3");
        const bad = await get(`${BASE}/new?size=abc`);
        assert.equal(bad.status, 400);
        assert.equal(bad.body, 'strconv.Atoi: parsing "abc": invalid syntax');
        assert.equal((await get(`${BASE}/new?size=0`)).status, 400);
        assert.equal((await get(`${BASE}/new?size=10`)).status, 400);
        const health = await get(`${BASE}/health`);
        assert.equal(health.body, "OK");
      });
    } finally {
      await etcd.stop();
    }
  },
);

itest(
  "service in-process: a real etcd member bootstraps from it; tokens expire",
  async () => {
    const local = localV2({ expireEveryMs: 50 });
    const app = new Hono();
    addV2Routes(app, local.deps);
    const backend: V2Backend = (p, init) =>
      Promise.resolve(app.fetch(new Request(`http://local${p}`, init)));
    const dataDir = await Deno.makeTempDir({ prefix: "etcd-disc-member-" });
    let child: Proc | undefined;
    try {
      await withService(backend, async () => {
        const url = (await get(`${BASE}/new?size=1`)).body;
        const host = "127.0.91.5";
        const urls = { clientURL: `http://${host}:2379`, peerURL: `http://${host}:2380` };
        child = spawn("etcd", [
          ...memberFlags({ name: "m1", ...urls, dataDir: `${dataDir}/m1` }),
          `--discovery=${url}`,
        ]);
        await child.waitFor("ready to serve client requests", 20_000);
        assert.equal((await get(`http://${host}:2379/health`)).body, '{"health":"true"}');
        const listing = JSON.parse((await get(url)).body);
        assert.equal(listing.node.nodes[0].value, `m1=http://${host}:2380`);
      }, 4);
      // Nothing else changes the store now: the next event under /discovery is the token's end.
      const now = await backend("/v2/keys/discovery");
      const nextIndex = Number(now.headers.get("x-etcd-index")) + 1;
      await now.body?.cancel();
      const next = await backend(
        `/v2/keys/discovery?wait=true&recursive=true&waitIndex=${nextIndex}`,
      );
      assert.equal((await next.json()).action, "expire");
      const left = JSON.parse(await (await backend("/v2/keys/discovery")).text()).node.nodes;
      assert.equal(left, undefined, "the token expired");
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      local.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);
