// The v2 proxy in-process against fake members on 127.0.97.5x (ports picked by the kernel):
// start-up lines, the cluster file, forwarding and failover, 502/503 bodies, readonly, CORS,
// refresh and restart from the cluster file. Texts as etcd 3.4.23 writes them (checked against
// `etcd --proxy on`); the parsers and the data dir check are in tests/proxy/parse_test.ts.
import assert from "node:assert/strict";
import { runV2Proxy, type V2Proxy } from "../../../src/proxy/mod.ts";
import { fakeClientPort, fakePeer, membersJSON, proxyConfig, rawGet } from "../../helpers/proxy.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { closedPort } from "../../helpers/ports.ts";
import { issueCerts } from "../../helpers/certs.ts";
import { messages, testLog } from "../../helpers/log.ts";

const HOST = "127.0.97.50";
const LISTEN = `http://${HOST}:0`;

const test = (name: string, fn: () => Promise<void> | void) => Deno.test(name, fn);

function base(p: V2Proxy): string {
  return `http://${HOST}:${p.addresses[0].port}`;
}

async function text(res: Response): Promise<string> {
  return await res.text();
}

/** A proxy in front of one fake member "a" (client port answering as m1), in its own data dir;
 * everything is closed and removed on dispose. */
async function oneMemberProxy(mode: "on" | "readonly", flags: string[] = []) {
  const dir = Deno.makeTempDirSync({ prefix: "etcd-proxy-" });
  const c1 = await fakeClientPort(HOST, "m1");
  const peer = await fakePeer(HOST, "");
  peer.members = membersJSON([{ id: "1", name: "a", peer: peer.url, client: c1.url }]);
  const t = testLog();
  const config = await proxyConfig([
    `--proxy=${mode}`,
    `--data-dir=${dir}`,
    `--listen-client-urls=${LISTEN}`,
    `--initial-cluster=a=${peer.url}`,
    ...flags,
  ]);
  const p = await runV2Proxy({ config, log: t.log, readonly: mode === "readonly" });
  return {
    p,
    c1,
    t,
    async [Symbol.asyncDispose]() {
      await p.close();
      await c1.close();
      await peer.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

test("start-up lines, cluster file, forwarding with X-Forwarded-For and doubled CORS", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "etcd-proxy-" });
  const c1 = await fakeClientPort(HOST, "m1");
  const peer = await fakePeer(HOST, "");
  const other = "http://127.0.97.59:2380";
  peer.members = membersJSON([
    { id: "17954829444001627354", name: "m1", peer: peer.url, client: c1.url },
    { id: "12419017051101991095", name: "m2", peer: other },
  ]);
  const t = testLog();
  const config = await proxyConfig([
    "--proxy=on",
    `--data-dir=${dir}`,
    `--listen-client-urls=${LISTEN}`,
    `--initial-cluster=m1=${peer.url}`,
  ]);
  const p = await runV2Proxy({ config, log: t.log, readonly: false });
  try {
    assert.deepEqual(messages(t.lines), [
      "N | etcdmain: proxy: this proxy supports v2 API only!",
      `I | etcdmain: proxy: using peer urls [${peer.url}] `,
      `N | etcdmain: proxy: updated peer urls in cluster file from [${peer.url}] to [${peer.url} ${other}]`,
      `I | proxy/httpproxy: endpoints found ["${c1.url}"]`,
      `I | etcdmain: v2 proxy started listening on client requests on "${LISTEN}"`,
    ]);
    assert.deepEqual(peer.requests, ["GET /members"]);
    assert.equal(
      Deno.readTextFileSync(`${dir}/proxy/cluster`),
      `{"PeerURLs":["${peer.url}","${other}"]}`,
    );
    assert.equal(Deno.statSync(`${dir}/proxy`).mode! & 0o777, 0o700);
    assert.equal(Deno.statSync(`${dir}/proxy/cluster`).mode! & 0o777, 0o600);

    const put = await fetch(`${base(p)}/v2/keys/a?x=1`, {
      method: "PUT",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-custom": "kept",
        "x-forwarded-for": "10.0.0.1",
      },
      body: "value=1",
    });
    assert.equal(put.status, 200);
    assert.equal(await text(put), '{"name":"m1"}');
    assert.equal(put.headers.get("access-control-allow-origin"), "*, *");
    // The client's own address is appended (the kernel picks 127.0.0.1 as the source).
    assert.match(put.headers.get("x-seen-forwarded-for")!, /^10\.0\.0\.1, 127\.\d+\.\d+\.\d+$/);
    assert.equal(put.headers.get("x-seen-custom"), "kept");
    assert.equal(put.headers.get("x-seen-host"), `${HOST}:${p.addresses[0].port}`);
    assert.deepEqual(c1.hits, ["PUT /v2/keys/a?x=1 value=1"]);

    const cfg = await fetch(`${base(p)}/v2/config/local/proxy`);
    assert.equal(cfg.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await text(cfg), `{"endpoints":["${c1.url}"]}\n`);
    const cfgPost = await fetch(`${base(p)}/v2/config/local/proxy`, { method: "POST" });
    assert.equal(cfgPost.status, 405);
    assert.equal(cfgPost.headers.get("allow"), "GET");
    assert.equal(await text(cfgPost), "Method Not Allowed\n");

    const opt = await fetch(`${base(p)}/v2/keys/a`, { method: "OPTIONS" });
    assert.equal(opt.status, 200);
    assert.equal(
      opt.headers.get("access-control-allow-methods"),
      "POST, GET, OPTIONS, PUT, DELETE",
    );
    assert.equal(await text(opt), "");
    assert.equal(c1.hits.length, 1);

    // fetch would clean the path itself: send it as written.
    const moved = await rawGet(HOST, p.addresses[0].port, "/v2/keys/../keys/a?x=1");
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, "/v2/keys/a?x=1");
    assert.equal(moved.body, '<a href="/v2/keys/a?x=1">Moved Permanently</a>.\n\n');

    const metrics = await text(await fetch(`${base(p)}/metrics`));
    assert.match(metrics, /etcd_proxy_requests_total\{method="PUT"\} \d+/);
    assert.match(metrics, /etcd_proxy_handled_total\{code="200",method="PUT"\} \d+/);
  } finally {
    await p.close();
    await c1.close();
    await peer.close();
  }

  // Restart: the cluster file wins over --discovery (never contacted), with etcd's warning.
  const t2 = testLog();
  const discovery = `${await closedPort(HOST)}/v2/keys/tok`;
  const config2 = await proxyConfig([
    "--proxy=on",
    `--data-dir=${dir}`,
    `--listen-client-urls=${LISTEN}`,
    `--discovery=${discovery}`,
  ]);
  const file = `${dir}/proxy/cluster`;
  const p2 = await runV2Proxy({ config: config2, log: t2.log, readonly: false });
  try {
    assert.deepEqual(messages(t2.lines).slice(0, 4), [
      "N | etcdmain: the server is already initialized as proxy before, starting as etcd proxy...",
      "N | etcdmain: proxy: this proxy supports v2 API only!",
      `W | etcdmain: discovery token ignored since the proxy has already been initialized. Valid cluster file found at "${file}"`,
      `I | etcdmain: proxy: using peer urls [${peer.url} ${other}] from cluster file "${file}"`,
    ]);
    // Both recorded peers are gone now: nothing to forward to.
    assert.ok(
      messages(t2.lines).includes(
        "W | etcdmain: proxy: could not retrieve cluster information from the given URLs",
      ),
    );
    const res = await fetch(`${base(p2)}/v2/keys/a`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(await text(res), '{"message":"httpproxy: zero endpoints currently available"}');
  } finally {
    await p2.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

test("failover: a dead member is marked unavailable for --proxy-failure-wait; all dead -> 502", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "etcd-proxy-" });
  const live = await fakeClientPort(HOST, "live");
  const dead = await closedPort(HOST);
  const peer = await fakePeer(HOST, "");
  peer.members = membersJSON([
    { id: "1", name: "a", peer: peer.url, client: dead },
    { id: "2", name: "b", peer: "http://127.0.97.59:2380", client: live.url },
  ]);
  const t = testLog();
  const config = await proxyConfig([
    "--proxy=on",
    `--data-dir=${dir}`,
    `--listen-client-urls=${LISTEN}`,
    `--initial-cluster=a=${peer.url}`,
    "--proxy-failure-wait=300",
    "--proxy-refresh-interval=600000",
  ]);
  // Client URLs come sorted; the shuffle then keeps (0.99) or swaps (0) the two: dead first.
  const random = dead < live.url ? () => 0.99 : () => 0;
  const p = await runV2Proxy({ config, log: t.log, readonly: false, random });
  try {
    const first = JSON.parse(await text(await fetch(`${base(p)}/v2/config/local/proxy`)));
    assert.deepEqual(first.endpoints, [dead, live.url]);
    const res = await fetch(`${base(p)}/v2/keys/x`);
    assert.equal(res.status, 200);
    assert.equal(await text(res), '{"name":"live"}');
    const hostPort = dead.replace("http://", "");
    assert.ok(
      messages(t.lines).includes(
        `I | proxy/httpproxy: failed to direct request to ${dead}: dial tcp ${hostPort}: connect: connection refused`,
      ),
      t.lines.join("\n"),
    );
    assert.ok(
      messages(t.lines).includes(`I | proxy/httpproxy: marked endpoint ${dead} unavailable`),
    );
    const during = JSON.parse(await text(await fetch(`${base(p)}/v2/config/local/proxy`)));
    assert.deepEqual(during.endpoints, [live.url]);
    await t.waitFor(`marked endpoint ${dead} available, to retest connectivity`, 3000);
    const after = JSON.parse(await text(await fetch(`${base(p)}/v2/config/local/proxy`)));
    assert.deepEqual(after.endpoints, [dead, live.url]);

    // Every member unreachable: 502 naming how many were tried, then nothing left: 503.
    await live.close();
    const liveHostPort = live.url.replace("http://", "");
    const bad = await fetch(`${base(p)}/v2/keys/x`);
    assert.equal(bad.status, 502);
    assert.equal(bad.headers.get("content-type"), "application/json");
    assert.equal(
      await text(bad),
      '{"message":"httpproxy: unable to get response from 2 endpoint(s)"}',
    );
    assert.ok(
      messages(t.lines).includes(`I | proxy/httpproxy: marked endpoint ${live.url} unavailable`),
    );
    assert.ok(
      messages(t.lines).some((l) =>
        l.startsWith(`I | proxy/httpproxy: failed to direct request to ${live.url}: `) &&
        l.includes(liveHostPort)
      ),
    );
    assert.ok(
      messages(t.lines).includes("I | proxy/httpproxy: unable to get response from 2 endpoint(s)"),
    );
    const none = await fetch(`${base(p)}/v2/keys/x`);
    assert.equal(none.status, 503);
    assert.equal(await text(none), '{"message":"httpproxy: zero endpoints currently available"}');
    const metrics = await text(await fetch(`${base(p)}/metrics`));
    assert.match(
      metrics,
      /etcd_proxy_dropped_total\{method="GET",proxying_error="zero_endpoints"\}/,
    );
    assert.match(
      metrics,
      /etcd_proxy_dropped_total\{method="GET",proxying_error="failed_getting_response"\}/,
    );
  } finally {
    await p.close();
    await peer.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

test("refresh: new members are picked up and the cluster file follows", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "etcd-proxy-" });
  const c1 = await fakeClientPort(HOST, "m1");
  const c2 = await fakeClientPort(HOST, "m2");
  const peer = await fakePeer(HOST, "");
  peer.members = membersJSON([{ id: "1", name: "a", peer: peer.url, client: c1.url }]);
  const t = testLog();
  const config = await proxyConfig([
    "--proxy=on",
    `--data-dir=${dir}`,
    `--listen-client-urls=${LISTEN}`,
    `--initial-cluster=a=${peer.url}`,
    "--proxy-refresh-interval=150",
  ]);
  const p = await runV2Proxy({ config, log: t.log, readonly: false });
  try {
    peer.members = membersJSON([
      { id: "1", name: "a", peer: peer.url, client: c1.url },
      { id: "2", name: "b", peer: "http://127.0.97.58:2380", client: c2.url },
    ]);
    await t.waitFor("updated peer urls in cluster file", 3000);
    const eps = JSON.parse(await text(await fetch(`${base(p)}/v2/config/local/proxy`))).endpoints;
    assert.deepEqual([...eps].sort(), [c1.url, c2.url].sort());
    assert.equal(
      Deno.readTextFileSync(`${dir}/proxy/cluster`),
      `{"PeerURLs":["${peer.url}","http://127.0.97.58:2380"]}`,
    );
    // "endpoints found" is logged once only.
    assert.equal(t.lines.filter((l) => l.includes("endpoints found")).length, 1);
  } finally {
    await p.close();
    await c1.close();
    await c2.close();
    await peer.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

test("readonly: 501 with an empty body for anything but GET; /metrics stays open", async () => {
  await using proxy = await oneMemberProxy("readonly");
  const { p, c1 } = proxy;
  for (const method of ["PUT", "POST", "DELETE", "OPTIONS", "HEAD"]) {
    const res = await fetch(`${base(p)}/v2/keys/a`, { method });
    assert.equal(res.status, 501, method);
    assert.equal(res.headers.get("content-length"), "0");
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.equal(await text(res), "");
  }
  const get = await fetch(`${base(p)}/v2/keys/a`);
  assert.equal(get.status, 200);
  assert.equal(await text(get), '{"name":"m1"}');
  assert.deepEqual(c1.hits, ["GET /v2/keys/a "]);
  const metrics = await fetch(`${base(p)}/metrics`, { method: "POST" });
  assert.equal(metrics.status, 200);
  await metrics.body?.cancel();
});

test("start-up failures: a bad cluster file, a taken port", async () => {
  await using tmp = tempDir({ prefix: "etcd-proxy-" });
  const dir = tmp.path;
  Deno.mkdirSync(`${dir}/proxy`);
  Deno.writeTextFileSync(`${dir}/proxy/cluster`, "<not json>");
  const config = await proxyConfig([
    "--proxy=on",
    `--data-dir=${dir}`,
    `--listen-client-urls=${LISTEN}`,
    "--initial-cluster=a=http://127.0.97.59:2380",
  ]);
  await assert.rejects(runV2Proxy({ config, log: testLog().log, readonly: false }), {
    name: "ProxyStartError",
    message: "invalid character '<' looking for beginning of value",
  });
  Deno.writeTextFileSync(`${dir}/proxy/cluster`, '{"PeerURLs":[]}');
  const first = await runV2Proxy({ config, log: testLog().log, readonly: false });
  const port = first.addresses[0].port;
  try {
    const taken = await proxyConfig([
      "--proxy=on",
      `--data-dir=${dir}`,
      `--listen-client-urls=http://${HOST}:${port}`,
    ]);
    await assert.rejects(runV2Proxy({ config: taken, log: testLog().log, readonly: false }), {
      message: `listen tcp ${HOST}:${port}: bind: address already in use`,
    });
  } finally {
    await first.close();
  }
});

test("https: the proxy serves TLS listen URLs and reaches https members with the TLS it is given", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "etcd-proxy-" });
  await using pkiDir = tempDir();
  const pki = await issueCerts(pkiDir.path, [{ name: "server", san: `IP:${HOST}` }]);
  const ca = Deno.readTextFileSync(pki.ca);
  const serverTLS = {
    cert: Deno.readTextFileSync(pki.cert("server")),
    key: Deno.readTextFileSync(pki.key("server")),
  };
  const c1 = await fakeClientPort(HOST, "secure", serverTLS);
  const peer = await fakePeer(HOST, "", serverTLS);
  peer.members = membersJSON([{ id: "1", name: "a", peer: peer.url, client: c1.url }]);
  const t = testLog();
  const config = await proxyConfig([
    "--proxy=on",
    `--data-dir=${dir}`,
    `--listen-client-urls=https://${HOST}:0`,
    `--initial-cluster=a=${peer.url}`,
  ]);
  const p = await runV2Proxy({
    config,
    log: t.log,
    readonly: false,
    tls: serverTLS,
    clientTLS: { ca },
    peerTLS: { ca },
  });
  const client = Deno.createHttpClient({ caCerts: [ca] });
  try {
    assert.ok(t.lines.some((l) => l.includes(`endpoints found ["${c1.url}"]`)), t.lines.join("\n"));
    const res = await fetch(`https://${HOST}:${p.addresses[0].port}/v2/keys/a`, { client });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"name":"secure"}');
  } finally {
    client.close();
    await p.close();
    await c1.close();
    await peer.close();
    Deno.removeSync(dir, { recursive: true });
  }

  // Without the CA the members' certificates are refused: no member is found.
  const t2 = testLog();
  const peer2 = await fakePeer(HOST, "[]", serverTLS);
  const p2 = await runV2Proxy({
    config: await proxyConfig([
      "--proxy=on",
      `--data-dir=${dir}`,
      `--listen-client-urls=${LISTEN}`,
      `--initial-cluster=a=${peer2.url}`,
    ]),
    log: t2.log,
    readonly: false,
  });
  try {
    assert.ok(
      messages(t2.lines).some((l) =>
        l === `W | etcdserver: could not get cluster response from ${peer2.url}: ` +
            `Get "${peer2.url}/members": x509: certificate signed by unknown authority`
      ),
      t2.lines.join("\n"),
    );
  } finally {
    await p2.close();
    await peer2.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

test("a client that hangs up ends the member request too", async () => {
  await using proxy = await oneMemberProxy("on");
  const { p, c1, t } = proxy;
  const abort = new AbortController();
  const res = await fetch(`${base(p)}/v2/keys/w?wait=true`, { signal: abort.signal });
  assert.equal(res.status, 200); // the head came through before any event
  abort.abort();
  await t.waitFor("closed request prematurely", 3000);
  // The member sees the proxy hang up its request (a hang here fails the test run).
  await c1.hungUp("/v2/keys/w?wait=true");
  assert.match(
    messages(t.lines).at(-1)!,
    /^I \| proxy\/httpproxy: client 127\.\d+\.\d+\.\d+:\d+ closed request prematurely$/,
  );
});

test("--proxy-read-timeout ends a member answer that stays silent", async () => {
  await using proxy = await oneMemberProxy("on", ["--proxy-read-timeout=200"]);
  const { p } = proxy;
  const started = performance.now();
  const res = await fetch(`${base(p)}/v2/keys/w?wait=true`);
  assert.equal(res.status, 200);
  await assert.rejects(res.text());
  const took = performance.now() - started;
  assert.ok(took >= 150 && took < 3000, `${took} ms`);
});
