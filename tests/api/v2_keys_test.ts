// The v2 HTTP API on a local store: etcd 3.4.23's status codes, headers and bodies (recorded
// with curl against etcd --enable-v2).
import assert from "node:assert/strict";
import { Hono } from "hono";
import { addV2Routes, localV2 } from "../../src/api/v2/mod.ts";
import { V2Store } from "../../src/v2store/mod.ts";

function setup(store?: V2Store) {
  const local = localV2({ store, clientURLs: ["http://127.0.90.1:2379"] });
  const app = new Hono();
  addV2Routes(app, local.deps);
  const call = async (method: string, path: string, form?: string, headers: HeadersInit = {}) => {
    const init: RequestInit = { method, headers };
    if (form !== undefined) {
      init.body = form;
      init.headers = { "content-type": "application/x-www-form-urlencoded", ...headers };
    }
    const res = await app.fetch(new Request(`http://127.0.90.1:2379${path}`, init));
    return { res, status: res.status, body: await res.text(), h: res.headers };
  };
  return { local, app, call };
}

Deno.test("v2 keys: writes, reads and their headers", async () => {
  const { local, call } = setup();
  try {
    let r = await call("PUT", "/v2/keys/foo", "value=bar");
    assert.equal(r.status, 201);
    assert.equal(
      r.body,
      '{"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":1,"createdIndex":1}}\n',
    );
    assert.equal(r.h.get("content-type"), "application/json");
    assert.equal(r.h.get("x-etcd-index"), "1");
    assert.equal(r.h.get("x-etcd-cluster-id"), "0");
    assert.ok(r.h.has("x-raft-index") && r.h.has("x-raft-term"));
    r = await call("PUT", "/v2/keys/foo?value=fromquery", "value=baz");
    assert.equal(r.status, 200, "an overwrite is 200");
    assert.match(r.body, /"value":"baz"/, "the body wins over the query");
    r = await call("GET", "/v2/keys/foo?quorum=true");
    assert.equal(
      r.body,
      '{"action":"get","node":{"key":"/foo","value":"baz","modifiedIndex":2,"createdIndex":2}}\n',
    );
    r = await call("GET", "/v2/keys/nokey");
    assert.equal(r.status, 404);
    assert.equal(
      r.body,
      '{"errorCode":100,"message":"Key not found","cause":"/nokey","index":2}\n',
    );
    assert.equal(r.h.get("x-etcd-index"), "2");
    assert.equal(r.h.get("x-raft-index"), null);
    r = await call("PUT", "/v2/keys/foo?noValueOnSuccess=true", "value=v2");
    assert.equal(r.body, '{"action":"set"}\n');
    r = await call("POST", "/v2/keys/queue", "value=job1");
    assert.equal(r.status, 201);
    assert.match(r.body, /"key":"\/queue\/00000000000000000004"/);
    r = await call("PUT", "/v2/keys/d?dir=true&prevExist=false");
    assert.equal(r.status, 201);
    assert.equal(
      r.body,
      '{"action":"create","node":{"key":"/d","dir":true,"modifiedIndex":5,"createdIndex":5}}\n',
    );
    r = await call("DELETE", "/v2/keys/d?dir=true");
    assert.equal(r.status, 200);
    r = await call("PUT", "/v2/keys/t?ttl=30", "value=1");
    assert.match(r.body, /"expiration":"[^"]+Z","ttl":30,/);
    r = await call("HEAD", "/v2/keys/t");
    assert.equal(r.status, 200);
    assert.equal(r.body, "");
    r = await call("PUT", "/v2/keys/", "value=1");
    assert.equal(r.status, 400);
    assert.equal(r.body, '{"errorCode":107,"message":"Root is read only","cause":"/","index":7}\n');
    r = await call("GET", "/v2/keys/");
    assert.match(r.body, /^\{"action":"get","node":\{"dir":true,"nodes":\[/);
  } finally {
    local.close();
  }
});

Deno.test("v2 keys: bad parameters get etcd's request errors with index 0", async () => {
  const { local, call } = setup();
  const cases: [string, string, string | undefined, number, string][] = [
    [
      "PUT",
      "/v2/keys/foo?prevValue=",
      "value=y",
      400,
      '{"errorCode":201,"message":"PrevValue is Required in POST form","cause":"\\"prevValue\\" cannot be empty","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/foo?ttl=abc",
      "value=y",
      400,
      '{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/foo?ttl=-1",
      "value=y",
      400,
      '{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/foo?recursive=maybe",
      "value=y",
      400,
      '{"errorCode":209,"message":"Invalid field","cause":"invalid value for \\"recursive\\"","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/x?prevIndex=abc",
      "value=1",
      400,
      '{"errorCode":203,"message":"The given index in POST form is not a number","cause":"invalid value for \\"prevIndex\\"","index":0}',
    ],
    [
      "GET",
      "/v2/keys/x?waitIndex=abc&wait=true",
      undefined,
      400,
      '{"errorCode":203,"message":"The given index in POST form is not a number","cause":"invalid value for \\"waitIndex\\"","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/x?prevExist=maybe",
      "value=1",
      400,
      '{"errorCode":209,"message":"Invalid field","cause":"invalid value for prevExist","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/x?refresh=maybe",
      "value=1",
      400,
      '{"errorCode":209,"message":"Invalid field","cause":"invalid value for refresh","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/x?wait=true",
      undefined,
      400,
      '{"errorCode":209,"message":"Invalid field","cause":"\\"wait\\" can only be used with GET requests","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/t1?refresh=true",
      undefined,
      400,
      '{"errorCode":212,"message":"A TTL must be provided on refresh","cause":"No TTL value set","index":0}',
    ],
    [
      "PUT",
      "/v2/keys/t1?ttl=5&refresh=true",
      "value=x",
      400,
      '{"errorCode":211,"message":"Value provided on refresh","cause":"A value was provided on a refresh","index":0}',
    ],
  ];
  try {
    for (const [method, path, form, status, body] of cases) {
      const r = await call(method, path, form);
      assert.equal(r.status, status, path);
      assert.equal(r.body, body + "\n", path);
      assert.equal(r.h.get("x-etcd-index"), "0", path);
    }
    const r = await call("PATCH", "/v2/keys/x");
    assert.equal(r.status, 405);
    assert.equal(r.body, "Method Not Allowed\n");
    assert.equal(r.h.get("allow"), "HEAD,GET,PUT,POST,DELETE");
  } finally {
    local.close();
  }
});

Deno.test("v2 keys: long-poll watch, waitIndex from history, stream", async () => {
  // The store tells the test when the long poll's watcher is in place.
  const store = new V2Store();
  const watching = Promise.withResolvers<void>();
  const watch = store.watch.bind(store);
  store.watch = (...args) => {
    const w = watch(...args);
    watching.resolve();
    return w;
  };
  const { local, call, app } = setup(store);
  try {
    await call("PUT", "/v2/keys/w/x", "value=1");
    const pending = call("GET", "/v2/keys/w?wait=true&recursive=true");
    await watching.promise;
    await call("PUT", "/v2/keys/w/y", "value=2");
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.h.get("x-etcd-index"), "1", "a watch reports the index it started at");
    assert.equal(
      r.body,
      '{"action":"set","node":{"key":"/w/y","value":"2","modifiedIndex":2,"createdIndex":2}}\n',
    );
    const past = await call("GET", "/v2/keys/w/x?wait=true&waitIndex=1");
    assert.match(past.body, /"key":"\/w\/x","value":"1"/);

    const res = await app.fetch(
      new Request("http://h/v2/keys/s?wait=true&stream=true&recursive=true"),
    );
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    await call("PUT", "/v2/keys/s/a", "value=1");
    await call("PUT", "/v2/keys/s/b", "value=2");
    let text = "";
    while (text.split("\n").length < 3) text += (await reader.read()).value;
    assert.deepEqual(text.trim().split("\n").map((l) => JSON.parse(l).node.key), [
      "/s/a",
      "/s/b",
    ]);
    await reader.cancel();
    assert.equal(local.store.stats().watchers, 0, "a closed stream removes its watcher");
  } finally {
    local.close();
  }
});

Deno.test("v2 members, machines and stats", async () => {
  const { local, call } = setup();
  try {
    let r = await call("GET", "/v2/members");
    assert.equal(
      r.body,
      '{"members":[{"id":"0","name":"local","peerURLs":[],"clientURLs":["http://127.0.90.1:2379"]}]}\n',
    );
    r = await call("POST", "/v2/members", "x=1");
    assert.equal(r.status, 415);
    assert.equal(
      r.body,
      '{"message":"Bad Content-Type application/x-www-form-urlencoded, accept application/json"}',
    );
    r = await call("DELETE", "/v2/members/zz");
    assert.equal(r.status, 404);
    assert.equal(r.body, '{"message":"No such member: zz"}');
    r = await call("GET", "/v2/machines");
    assert.equal(r.body, "http://127.0.90.1:2379");
    assert.equal(r.h.get("content-type"), "text/plain; charset=utf-8");
    await call("PUT", "/v2/keys/a", "value=1");
    r = await call("GET", "/v2/stats/store");
    assert.match(r.body, /^\{"getsSuccess":0,"getsFail":0,"setsSuccess":1,.*"watchers":0\}$/);
  } finally {
    local.close();
  }
});
