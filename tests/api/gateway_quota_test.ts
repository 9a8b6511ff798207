// --max-concurrent-streams over the JSON gateway: each gateway call holds a stream slot until
// its answer is read to the end or dropped; other requests pass by; waiters go first come,
// first served, and one that gives up leaves the queue.
import assert from "node:assert/strict";
import { limitGatewayStreams, StreamQuota } from "../../src/api/gateway_quota.ts";

// An app whose streaming answers stay open until the test ends them.
function streamingApp() {
  const open: ReadableStreamDefaultController<Uint8Array>[] = [];
  const seen: string[] = [];
  const app = (req: Request) => {
    seen.push(new URL(req.url).pathname);
    if (new URL(req.url).pathname.endsWith("/watch")) {
      const body = new ReadableStream<Uint8Array>({ start: (c) => void open.push(c) });
      return Promise.resolve(new Response(body));
    }
    return Promise.resolve(new Response("{}"));
  };
  return { app, open, seen };
}

const post = (path: string, signal?: AbortSignal) =>
  new Request(`http://h${path}`, { method: "POST", body: "{}", signal });

/** Whether `p` is still pending once everything ready has run (timers included). */
const pending = async <T>(p: Promise<T>) => {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  return !done;
};

Deno.test("gateway quota: a fourth call waits for one of three open watches to end", async () => {
  const { app, open } = streamingApp();
  const quota = new StreamQuota(3);
  const limited = limitGatewayStreams(app, quota);
  const watches = await Promise.all([1, 2, 3].map(() => limited(post("/v3/watch"))));
  assert.equal(quota.inUse, 3);
  const range = limited(post("/v3/kv/range"));
  assert.ok(await pending(range));
  // Not gateway calls: answered while the quota is used up.
  for (const req of [new Request("http://h/health"), post("/v3/no/such/path")]) {
    assert.equal(await (await limited(req)).text(), "{}");
  }
  assert.equal(await (await limited(new Request("http://h/v3/kv/range"))).text(), "{}"); // GET
  assert.ok(await pending(range));
  // The first watch's answer ends: its slot goes to the waiting range.
  open[0].close();
  await watches[0].body!.pipeTo(new WritableStream());
  const answered = await range;
  assert.equal(await answered.text(), "{}");
  assert.equal(quota.inUse, 2);
  // A client that drops its watch gives its slot back too.
  await watches[1].body!.cancel();
  assert.equal(quota.inUse, 1);
});

Deno.test("gateway quota: waiters are served in order; one that gives up leaves the queue", async () => {
  const { app, open } = streamingApp();
  const quota = new StreamQuota(1);
  const limited = limitGatewayStreams(app, quota);
  const first = await limited(post("/v3beta/watch"));
  const gone = new AbortController();
  const leaving = limited(post("/v3/kv/put", gone.signal));
  const second = limited(post("/v3/kv/range"));
  const third = limited(post("/v3/kv/range"));
  gone.abort();
  assert.equal((await leaving).status, 499);
  assert.ok(await pending(second));
  open[0].close();
  await first.body!.pipeTo(new WritableStream());
  assert.ok(await pending(third));
  await (await second).text();
  await (await third).text();
  assert.equal(quota.inUse, 0);
});
