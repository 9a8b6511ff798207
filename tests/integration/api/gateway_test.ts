// The /v3 JSON gateway of a real member, with curl and fetch: every path of etcd 3.4's table,
// the shapes of spec/api.md §2 (IDs replaced by placeholders), error statuses, /v3beta, and the
// streaming paths. One member serves the whole file. Address block 127.0.41.1.
import assert from "node:assert/strict";
import {
  itest,
  type Proc,
  run,
  singleMemberFlags,
  spawn,
  startReady,
  stop,
} from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { assertPortsFree } from "../../helpers/ports.ts";

const IP = "127.0.41.1";
const EP = `http://${IP}:2379`;

let member: Proc | undefined;

/** An integration test against the file's one member, started by the first test. */
function test(name: string, fn: () => Promise<void>) {
  itest(name, async () => {
    if (!member) {
      await assertPortsFree(IP, [2379, 2380]);
      member = await startReady(singleMemberFlags("gw", IP, `${tempDir().path}/data`));
    }
    await fn();
  });
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function post(path: string, body: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${EP}${path}`, { method: "POST", body, ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The JSON of a successful unary call, with the identifiers that vary per run replaced. */
async function ok(path: string, body: string): Promise<string> {
  const a = await post(path, body);
  assert.equal(a.status, 200, `${path}: ${a.text}`);
  assert.equal(a.headers.get("content-type"), "application/json");
  assert.equal(a.headers.get("grpc-metadata-content-type"), "application/grpc");
  assert.ok(!a.text.endsWith("\n"), "unary answers have no trailing newline");
  return normalize(a.text);
}

function normalize(text: string): string {
  return text
    .replace(/"(cluster_id|member_id|leader|ID)":"\d{6,}"/g, '"$1":"<id>"')
    .replace(/"(dbSize|dbSizeInUse)":"\d+"/g, '"$1":"<n>"')
    .replace(/"hash":\d+/g, '"hash":<n>');
}

const H = '"header":{"cluster_id":"<id>","member_id":"<id>"';

async function fails(path: string, body: string, status: number, code: number, msg: string) {
  const a = await post(path, body);
  assert.equal(a.status, status, `${path} ${body}: ${a.text}`);
  assert.equal(a.headers.get("content-type"), "application/json");
  assert.equal(a.text, JSON.stringify({ error: msg, message: msg, code }));
}

test("gateway: KV paths answer the spec's shapes", async () => {
  assert.equal(
    await ok("/v3/kv/put", '{"key":"Zm9v","value":"YmFy"}'),
    `{${H},"revision":"2","raft_term":"2"}}`,
  );
  assert.equal(
    await ok("/v3/kv/put", '{"key":"Zm9v","value":"YmF6","prev_kv":true}'),
    `{${H},"revision":"3","raft_term":"2"},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}`,
  );
  assert.equal(
    await ok("/v3/kv/range", '{"key":"Zm9v"}'),
    `{${H},"revision":"3","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}`,
  );
  assert.equal(
    await ok("/v3/kv/range", '{"key":"bm9rZXk="}'),
    `{${H},"revision":"3","raft_term":"2"}}`,
  );
  assert.equal(
    await ok(
      "/v3/kv/txn",
      '{"compare":[{"target":"VALUE","result":"EQUAL","key":"Zm9v","value":"YmF6"}],"success":[{"requestPut":{"key":"Zm9v","value":"cXV4"}}],"failure":[{"requestRange":{"key":"Zm9v"}}]}',
    ),
    `{${H},"revision":"4","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"4"}}}]}`,
  );
  // A failed compare: no "succeeded", the failure branch's range answers.
  assert.equal(
    await ok(
      "/v3/kv/txn",
      '{"compare":[{"target":"VERSION","result":"GREATER","key":"Zm9v","version":"100"}],"failure":[{"request_range":{"key":"Zm9v","keys_only":true}}]}',
    ),
    `{${H},"revision":"4","raft_term":"2"},"responses":[{"response_range":{"header":{"revision":"4"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3"}],"count":"1"}}]}`,
  );
  assert.equal(
    await ok("/v3/kv/deleterange", '{"key":"Zm9v","prev_kv":true}'),
    `{${H},"revision":"5","raft_term":"2"},"deleted":"1","prev_kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3","value":"cXV4"}]}`,
  );
  assert.equal(
    await ok("/v3/kv/compaction", '{"revision":"3"}'),
    `{${H},"revision":"5","raft_term":"2"}}`,
  );
  // /v3beta is the same gateway.
  assert.equal(
    await ok("/v3beta/kv/range", '{"key":"Zm9v"}'),
    `{${H},"revision":"5","raft_term":"2"}}`,
  );
});

test("gateway: gRPC errors become etcd's statuses and bodies", async () => {
  const empty = "etcdserver: key is not provided";
  await fails("/v3/kv/range", '{"key":""}', 400, 3, empty);
  await fails("/v3/kv/put", "", 400, 3, empty); // an empty body is an empty request
  await fails(
    "/v3/kv/compaction",
    '{"revision":1000}',
    400,
    11,
    "etcdserver: mvcc: required revision is a future revision",
  );
  await fails(
    "/v3/kv/range",
    '{"key":"Zm9v","revision":"1"}',
    400,
    11,
    "etcdserver: mvcc: required revision has been compacted",
  );
  await fails("/v3/lease/revoke", '{"ID":5}', 404, 5, "etcdserver: requested lease not found");
  await fails("/v3/kv/lease/revoke", '{"ID":5}', 404, 5, "etcdserver: requested lease not found");
  await fails("/v3/cluster/member/remove", '{"ID":5}', 404, 5, "etcdserver: member not found");
  // Malformed bodies: the Go decoder's words, 400 with code 3 on unary paths.
  await fails(
    "/v3/kv/range",
    "{bad",
    400,
    3,
    "invalid character 'b' looking for beginning of object key string",
  );
  await fails(
    "/v3/kv/range",
    '{"key":123}',
    400,
    3,
    "json: cannot unmarshal number into Go value of type []uint8",
  );
  // The Election and Lock services answer their errors without a status: Unknown, 500 (etcd
  // 3.4 side by side in tests/integration/election_lock_test.ts).
  await fails("/v3/election/leader", '{"name":"bG9jaw=="}', 500, 2, "election: no leader");
  await fails("/v3/lock/unlock", "{}", 500, 2, "etcdserver: key is not provided");
});

test("gateway: lease, cluster and maintenance paths", async () => {
  const grant = await ok("/v3/lease/grant", '{"TTL":30}');
  assert.equal(grant, `{${H},"revision":"5","raft_term":"2"},"ID":"<id>","TTL":"30"}`);
  const id = JSON.parse((await post("/v3/lease/leases", "{}")).text).leases[0].ID as string;
  await ok("/v3/kv/put", `{"key":"bA==","value":"dg==","lease":"${id}"}`);
  assert.equal(
    await ok("/v3/lease/timetolive", '{"ID":12345}'),
    `{${H},"revision":"6","raft_term":"2"},"ID":"12345","TTL":"-1"}`,
  );
  const ttl = JSON.parse((await post("/v3/kv/lease/timetolive", `{"ID":${id},"keys":true}`)).text);
  assert.equal(ttl.ID, id);
  assert.equal(ttl.grantedTTL, "30");
  assert.ok(Number(ttl.TTL) > 25 && Number(ttl.TTL) <= 30, ttl.TTL);
  assert.deepEqual(ttl.keys, ["bA=="]);
  for (const path of ["/v3/lease/leases", "/v3/kv/lease/leases"]) {
    assert.equal(
      await ok(path, "{}"),
      `{${H},"revision":"6","raft_term":"2"},"leases":[{"ID":"<id>"}]}`,
    );
  }
  assert.equal(
    await ok("/v3/lease/revoke", `{"ID":"${id}"}`),
    `{${H},"revision":"7","raft_term":"2"}}`,
  );
  assert.equal(
    await ok("/v3/kv/range", '{"key":"bA=="}'),
    `{${H},"revision":"7","raft_term":"2"}}`,
  );

  assert.equal(
    await ok("/v3/cluster/member/list", "{}"),
    `{${H},"raft_term":"2"},"members":[{"ID":"<id>","name":"gw","peerURLs":["http://${IP}:2380"],"clientURLs":["http://${IP}:2379"]}]}`,
  );
  const status = JSON.parse(await ok("/v3/maintenance/status", "{}"));
  assert.deepEqual(Object.keys(status), [
    "header",
    "version",
    "dbSize",
    "leader",
    "raftIndex",
    "raftTerm",
    "raftAppliedIndex",
    "dbSizeInUse",
  ]);
  assert.equal(status.version, "3.4.23");
  assert.equal(status.raftTerm, "2");
  assert.match(
    await ok("/v3/maintenance/hash", "{}"),
    /^\{"header":\{"cluster_id":"<id>","member_id":"<id>","revision":"\d+","raft_term":"2"\},"hash":<n>\}$/,
  );
  // etcd 3.4 answers both without a header; with no alarms, nothing at all.
  assert.equal(await ok("/v3/maintenance/defragment", "{}"), "{}");
  assert.equal(await ok("/v3/maintenance/alarm", '{"action":"GET"}'), "{}");
  // Reconfiguration paths reach the Cluster service and answer its errors.
  for (const path of ["update", "promote"]) {
    const a = await post(
      `/v3/cluster/member/${path}`,
      '{"ID":5,"peerURLs":["http://127.0.41.9:2380"]}',
    );
    assert.ok(a.status >= 400, `${path}: ${a.status} ${a.text}`);
    assert.equal(typeof JSON.parse(a.text).code, "number");
  }
  const add = await post("/v3/cluster/member/add", '{"peerURLs":["not a url"]}');
  assert.ok(add.status >= 400, add.text);
  const move = await post("/v3/maintenance/transfer-leadership", '{"targetID":5}');
  assert.ok(move.status >= 400, move.text);
  assert.equal(typeof JSON.parse(move.text).code, "number");
});

test("gateway: methods, unknown paths and v3alpha", async () => {
  const get = await fetch(`${EP}/v3/kv/range`);
  assert.equal(get.status, 405);
  assert.equal(await get.text(), "Method Not Allowed\n");
  const unknown = await post("/v3/kv/nothing", "{}");
  assert.equal(unknown.status, 404);
  assert.equal(unknown.text, "Not Found\n");
  const alpha = await post("/v3alpha/kv/range", "{}");
  assert.equal(alpha.status, 404);
  assert.equal(alpha.text, "404 page not found\n");
  const options = await fetch(`${EP}/v3/kv/range`, { method: "OPTIONS" });
  assert.equal(options.status, 200);
  assert.equal(options.headers.get("access-control-allow-origin"), "*");
  await options.body?.cancel();
});

/** Reads newline-terminated lines from a streamed answer. */
async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
}

test("gateway: watch streams result lines to fetch until the client leaves", async () => {
  const abort = new AbortController();
  const res = await fetch(`${EP}/v3/watch`, {
    method: "POST",
    body: '{"create_request":{"key":"dw==","prev_kv":true}}',
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const it = lines(res.body!);
  const next = async () => normalize((await it.next()).value as string);
  assert.equal(await next(), `{"result":{${H},"revision":"7","raft_term":"2"},"created":true}}`);
  await ok("/v3/kv/put", '{"key":"dw==","value":"MQ=="}');
  await ok("/v3/kv/put", '{"key":"dw==","value":"Mg=="}');
  await ok("/v3/kv/deleterange", '{"key":"dw=="}');
  assert.equal(
    await next(),
    `{"result":{${H},"revision":"8","raft_term":"2"},"events":[{"kv":{"key":"dw==","create_revision":"8","mod_revision":"8","version":"1","value":"MQ=="}}]}}`,
  );
  assert.equal(
    await next(),
    `{"result":{${H},"revision":"9","raft_term":"2"},"events":[{"kv":{"key":"dw==","create_revision":"8","mod_revision":"9","version":"2","value":"Mg=="},"prev_kv":{"key":"dw==","create_revision":"8","mod_revision":"8","version":"1","value":"MQ=="}}]}}`,
  );
  assert.equal(
    await next(),
    `{"result":{${H},"revision":"10","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"dw==","mod_revision":"10"},"prev_kv":{"key":"dw==","create_revision":"8","mod_revision":"9","version":"2","value":"Mg=="}}]}}`,
  );
  abort.abort();
  await it.return(undefined).catch(() => {});
  // A watch from a compacted revision: created, then canceled with compact_revision.
  const compacted = await fetch(`${EP}/v3beta/watch`, {
    method: "POST",
    body: '{"create_request":{"key":"dw==","start_revision":1}}',
  });
  const c = lines(compacted.body!);
  assert.equal(
    normalize((await c.next()).value as string),
    `{"result":{${H},"revision":"10","raft_term":"2"},"created":true}}`,
  );
  assert.equal(
    normalize((await c.next()).value as string),
    `{"result":{${H},"raft_term":"2"},"canceled":true,"compact_revision":"3"}}`,
  );
  await compacted.body?.cancel().catch(() => {});
});

test("gateway: watch with curl -N, malformed stream bodies, keepalive, snapshot", async () => {
  const curl = spawn("curl", [
    "-s",
    "-N",
    "-X",
    "POST",
    `${EP}/v3/watch`,
    "-d",
    '{"create_request":{"key":"Yw=="}}',
  ]);
  try {
    await curl.waitFor(/"created":true/);
    await ok("/v3/kv/put", '{"key":"Yw==","value":"eA=="}');
    const event = await curl.waitFor(/"events"/);
    assert.match(
      event,
      /^\{"result":\{"header":\{.*\},"events":\[\{"kv":\{"key":"Yw==","create_revision":"\d+","mod_revision":"\d+","version":"1","value":"eA=="\}\}\]\}\}$/,
    );
  } finally {
    curl.kill();
    await curl.status;
  }
  // A stream whose first message does not decode: 500 with code 2, no trailing newline.
  await fails(
    "/v3/watch",
    "{bad",
    500,
    2,
    "invalid character 'b' looking for beginning of object key string",
  );
  await fails(
    "/v3/lease/keepalive",
    '{"ID":"x"}',
    500,
    2,
    "invalid character 'x' looking for beginning of value",
  );
  // Keep-alive ends with the body: one answer per message; unknown leases get TTL 0 (omitted).
  const ka = await run("curl", [
    "-s",
    "-N",
    "-X",
    "POST",
    `${EP}/v3/lease/keepalive`,
    "-d",
    '{"ID":999}{"ID":998}',
  ]);
  assert.deepEqual(ka.stdout.split("\n").map(normalize), [
    `{"result":{${H},"revision":"11","raft_term":"2"},"ID":"999"}}`,
    `{"result":{${H},"revision":"11","raft_term":"2"},"ID":"998"}}`,
    "",
  ]);
  // The snapshot arrives as blob lines; concatenated they are the database.
  const snap = await post("/v3/maintenance/snapshot", "{}");
  assert.equal(snap.status, 200);
  const chunks = snap.text.trimEnd().split("\n").map((l) => JSON.parse(l).result);
  const bytes = chunks.reduce((n, c) => n + Uint8Array.fromBase64(c.blob ?? "").length, 0);
  assert.ok(bytes > 4096, `snapshot of ${bytes} bytes`);
  assert.equal(chunks.at(-1).remaining_bytes, undefined);
  await fails(
    "/v3/maintenance/snapshot",
    "{bad",
    400,
    3,
    "invalid character 'b' looking for beginning of object key string",
  );
});

test("gateway: stop the member", async () => {
  if (member) await stop(member);
});
