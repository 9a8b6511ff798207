import assert from "node:assert/strict";
import { createHttpApp } from "../../src/api/mod.ts";

const CORS = {
  "access-control-allow-methods": "POST, GET, OPTIONS, PUT, DELETE",
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "accept, content-type, authorization",
};

function app(healthy = true, cluster = "3.4.0") {
  const excluded: string[][] = [];
  const a = createHttpApp({
    version: () => ({ etcdserver: "3.4.23", etcdcluster: cluster }),
    health: ({ exclude }) => {
      excluded.push(exclude);
      return Promise.resolve(healthy ? { ok: true } : { ok: false, reason: "RAFT NO LEADER" });
    },
  });
  const get = (path: string, method = "GET") =>
    Promise.resolve(a.fetch(new Request(`http://127.0.60.1:2379${path}`, { method })));
  return { get, excluded };
}

function assertCors(res: Response) {
  for (const [k, v] of Object.entries(CORS)) assert.equal(res.headers.get(k), v, k);
}

Deno.test("http: /health healthy and unhealthy bodies, as etcd 3.4 writes them", async () => {
  let res = await app().get("/health");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await res.text(), '{"health":"true"}');
  assertCors(res);
  const sick = app(false);
  res = await sick.get("/health?exclude=NOSPACE");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await res.text(), '{"health":"false"}\n');
  assert.deepEqual(sick.excluded, [["NOSPACE"]]);
});

Deno.test("http: /version", async () => {
  let res = await app().get("/version");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(await res.text(), '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
  assertCors(res);
  res = await app(true, "not_decided").get("/version");
  assert.equal(await res.text(), '{"etcdserver":"3.4.23","etcdcluster":"not_decided"}');
});

Deno.test("http: wrong methods get 405 with Allow; unknown paths 404", async () => {
  for (const [path, method] of [["/health", "POST"], ["/version", "PUT"], ["/health", "HEAD"]]) {
    const res = await app().get(path, method);
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), "GET");
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    if (method !== "HEAD") assert.equal(await res.text(), "Method Not Allowed\n");
    assertCors(res);
  }
  const res = await app().get("/nope");
  assert.equal(res.status, 404);
  assert.equal(await res.text(), "404 page not found\n");
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  assertCors(res);
});

Deno.test("http: OPTIONS on any path is 200 with an empty body", async () => {
  for (const path of ["/health", "/anything/at/all"]) {
    const res = await app().get(path, "OPTIONS");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");
    assertCors(res);
  }
});

Deno.test("http: routes added through deps are served", async () => {
  const a = createHttpApp({
    version: () => ({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }),
    health: () => Promise.resolve({ ok: true }),
    routes: (h) => h.post("/v3/echo", async (c) => c.text(await c.req.text())),
  });
  const res = await a.fetch(new Request("http://x/v3/echo", { method: "POST", body: "hi" }));
  assert.equal(await res.text(), "hi");
  assertCors(res);
});
