// The v2 proxy in front of a real etcd 3.4 cluster (three members with --enable-v2 on
// 127.0.97.1-3; proxies on 127.0.97.10-12): v2 reads, writes and a watch with fetch and
// `ETCDCTL_API=2 etcdctl`, answers compared with etcd's own `--proxy on`, readonly, restart
// from the cluster file, a killed member skipped, then 502 and 503 once every member is gone.
import assert from "node:assert/strict";
import {
  itest,
  memberFlags,
  type Proc,
  run,
  singleMemberFlags,
  spawn,
  stop,
} from "../../helpers/process.ts";
import { identifyDataDir, runV2Proxy, type V2Proxy } from "../../../src/proxy/mod.ts";
import { proxyConfig } from "../../helpers/proxy.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { etcdctlWith } from "../../helpers/etcdctl.ts";
import { putForm } from "../../helpers/v2.ts";
import { messages, testLog } from "../../helpers/log.ts";

const ip = (i: number) => `127.0.97.${i}`;
const peerURL = (i: number) => `http://${ip(i)}:2380`;
const clientURL = (i: number) => `http://${ip(i)}:2379`;
const INITIAL_CLUSTER = [1, 2, 3].map((i) => `m${i}=${peerURL(i)}`).join(",");
const PROXY = clientURL(10);
const ETCD_PROXY = clientURL(11);
const RO_PROXY = clientURL(12);
const READY = "ready to serve client requests";

function startMember(i: number, dir: string): Proc {
  return spawn("etcd", [
    ...memberFlags({
      name: `m${i}`,
      clientURL: clientURL(i),
      peerURL: peerURL(i),
      dataDir: `${dir}/m${i}`,
    }),
    "--enable-v2",
    `--initial-cluster=${INITIAL_CLUSTER}`,
    "--initial-cluster-token=proxy-test",
  ]);
}

const etcdctl2 = etcdctlWith({ api: 2 });

/** Header names of a response with how often each appears, without per-request ones. */
function headerShape(res: Response): string[] {
  const skip = new Set(["date", "x-etcd-index", "x-raft-index", "x-raft-term", "connection"]);
  return [...res.headers].filter(([k]) => !skip.has(k)).map(([k, v]) => `${k}: ${v}`);
}

itest("v2 proxy in front of a real etcd 3.4 cluster", async () => {
  for (const i of [1, 2, 3]) await assertPortsFree(ip(i), [2379, 2380]);
  for (const i of [10, 11, 12]) await assertPortsFree(ip(i), [2379]);
  const dir = tempDir({ prefix: "etcd-proxy-it-" }).path;
  const members = new Map<number, Proc>([1, 2, 3].map((i) => [i, startMember(i, dir)]));
  const proxies: V2Proxy[] = [];
  let etcdProxy: Proc | undefined;
  try {
    await Promise.all([...members.values()].map((m) => m.waitFor(READY, 20_000)));

    const t = testLog();
    const config = await proxyConfig([
      "--proxy=on",
      `--data-dir=${dir}/proxy`,
      `--listen-client-urls=${PROXY}`,
      `--initial-cluster=${INITIAL_CLUSTER}`,
      "--proxy-failure-wait=60000",
    ]);
    let proxy = await runV2Proxy({ config, log: t.log, readonly: false });
    proxies.push(proxy);
    const peers = [1, 2, 3].map(peerURL);
    assert.deepEqual(messages(t.lines).slice(0, 2), [
      "N | etcdmain: proxy: this proxy supports v2 API only!",
      `I | etcdmain: proxy: using peer urls [${peers.join(" ")}] `,
    ]);
    const found = messages(t.lines).find((l) => l.includes("endpoints found"))!;
    assert.deepEqual(
      JSON.parse(found.replace(/^.*endpoints found /, "").replaceAll('" "', '","')).sort(),
      [1, 2, 3].map(clientURL),
    );
    assert.equal(
      messages(t.lines).at(-1),
      `I | etcdmain: v2 proxy started listening on client requests on "${PROXY}"`,
    );
    assert.equal(
      Deno.readTextFileSync(`${dir}/proxy/proxy/cluster`),
      JSON.stringify({ PeerURLs: peers }),
    );

    // Writes and reads with curl's requests (fetch) and with etcdctl v2.
    const put = await putForm(`${PROXY}/v2/keys/greeting`, "hello");
    assert.equal(put.status, 201);
    assert.equal((await put.json()).node.value, "hello");
    const get = await fetch(`${PROXY}/v2/keys/greeting`);
    assert.equal(get.status, 200);
    assert.equal((await get.json()).node.value, "hello");
    const set = await etcdctl2(PROXY, "--no-sync", "set", "/ctl/a", "via-proxy");
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, "via-proxy\n");
    const got = await etcdctl2(PROXY, "--no-sync", "get", "/ctl/a");
    assert.equal(got.stdout, "via-proxy\n");
    const synced = await etcdctl2(PROXY, "get", "/greeting");
    assert.equal(synced.stdout, "hello\n", synced.stderr);
    const missing = await etcdctl2(PROXY, "--no-sync", "get", "/nokey");
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /^Error: {2}100: Key not found \(\/nokey\) \[\d+\]\n$/);

    // A long-poll watch stays open through the proxy (no read timeout) until the event. It
    // asks from the next index, so a put that reaches etcd before the watch is not missed.
    const index = await fetch(`${PROXY}/v2/keys/`);
    await index.body?.cancel();
    const next = Number(index.headers.get("x-etcd-index")) + 1;
    const watch = fetch(`${PROXY}/v2/keys/w?wait=true&waitIndex=${next}`);
    await (await putForm(`${PROXY}/v2/keys/w`, "event")).body?.cancel();
    const event = await (await watch).json();
    assert.equal(event.action, "set");
    assert.equal(event.node.value, "event");

    // The same requests through etcd's own v2 proxy answer alike.
    etcdProxy = spawn("etcd", [
      "--proxy=on",
      "--name=etcdproxy",
      `--data-dir=${dir}/etcdproxy`,
      `--listen-client-urls=${ETCD_PROXY}`,
      `--initial-cluster=${INITIAL_CLUSTER}`,
    ]);
    await etcdProxy.waitFor("v2 proxy started listening on client requests on");
    for (const path of ["/v2/keys/greeting", "/v2/keys/nokey", "/version", "/v2/members"]) {
      const [ours, theirs] = await Promise.all([
        fetch(`${PROXY}${path}`),
        fetch(`${ETCD_PROXY}${path}`),
      ]);
      assert.equal(ours.status, theirs.status, path);
      assert.deepEqual(headerShape(ours), headerShape(theirs), path);
      const [a, b] = [await ours.text(), await theirs.text()];
      assert.equal(a.replace(/"index":\d+/, ""), b.replace(/"index":\d+/, ""), path);
    }
    const opts = await Promise.all(
      [PROXY, ETCD_PROXY].map((u) => fetch(`${u}/v2/keys/greeting`, { method: "OPTIONS" })),
    );
    assert.deepEqual(headerShape(opts[0]), headerShape(opts[1]));
    const cfg = await Promise.all(
      [PROXY, ETCD_PROXY].map((u) => fetch(`${u}/v2/config/local/proxy`)),
    );
    assert.deepEqual(headerShape(cfg[0]), headerShape(cfg[1]));
    const [ourCfg, theirCfg] = await Promise.all(cfg.map((r) => r.json()));
    assert.deepEqual(ourCfg.endpoints.sort(), theirCfg.endpoints.sort());

    // Readonly: writes refused with 501 and an empty body, reads served.
    const ro = await runV2Proxy({
      config: await proxyConfig([
        "--proxy=readonly",
        `--data-dir=${dir}/ro`,
        `--listen-client-urls=${RO_PROXY}`,
        `--initial-cluster=${INITIAL_CLUSTER}`,
      ]),
      log: testLog().log,
      readonly: true,
    });
    proxies.push(ro);
    const refused = await putForm(`${RO_PROXY}/v2/keys/greeting`, "nope");
    assert.equal(refused.status, 501);
    assert.equal(await refused.text(), "");
    const roSet = await etcdctl2(RO_PROXY, "--no-sync", "set", "/ctl/b", "x");
    assert.notEqual(roSet.code, 0);
    assert.equal((await (await fetch(`${RO_PROXY}/v2/keys/greeting`)).json()).node.value, "hello");

    // Restart from the cluster file alone (no --initial-cluster this time).
    await proxy.close();
    proxies.splice(proxies.indexOf(proxy), 1);
    const t2 = testLog();
    proxy = await runV2Proxy({
      config: await proxyConfig([
        "--proxy=on",
        `--data-dir=${dir}/proxy`,
        `--listen-client-urls=${PROXY}`,
        "--proxy-failure-wait=60000",
      ]),
      log: t2.log,
      readonly: false,
    });
    proxies.push(proxy);
    assert.ok(
      messages(t2.lines).includes(
        `I | etcdmain: proxy: using peer urls [${
          peers.join(" ")
        }] from cluster file "${dir}/proxy/proxy/cluster"`,
      ),
      t2.lines.join("\n"),
    );
    assert.equal((await (await fetch(`${PROXY}/v2/keys/greeting`)).json()).node.value, "hello");

    // Kill the member the proxy tries first: the next one answers, the dead one is marked.
    const order: string[] = (await (await fetch(`${PROXY}/v2/config/local/proxy`)).json())
      .endpoints;
    const firstIdx = [1, 2, 3].find((i) => clientURL(i) === order[0])!;
    const victim = members.get(firstIdx)!;
    victim.kill("SIGKILL");
    await victim.status;
    members.delete(firstIdx);
    const after = await fetch(`${PROXY}/v2/keys/greeting`);
    assert.equal(after.status, 200);
    assert.equal((await after.json()).node.value, "hello");
    assert.ok(
      messages(t2.lines).includes(`I | proxy/httpproxy: marked endpoint ${order[0]} unavailable`),
      t2.lines.join("\n"),
    );
    const left = (await (await fetch(`${PROXY}/v2/config/local/proxy`)).json()).endpoints;
    assert.deepEqual(left, order.slice(1));

    // Every member gone: 502 for the two still listed, then 503 (nothing left to try).
    for (const [i, m] of members) {
      m.kill("SIGKILL");
      await m.status;
      members.delete(i);
    }
    const bad = await fetch(`${PROXY}/v2/keys/greeting`);
    assert.equal(bad.status, 502);
    assert.equal(
      await bad.text(),
      '{"message":"httpproxy: unable to get response from 2 endpoint(s)"}',
    );
    const none = await fetch(`${PROXY}/v2/keys/greeting`);
    assert.equal(none.status, 503);
    assert.equal(await none.text(), '{"message":"httpproxy: zero endpoints currently available"}');
    // etcd's proxy says the same once it knows no member (its refresh finds none).
    const etcd503 = await fetch(`${ETCD_PROXY}/v2/keys/greeting`);
    if (etcd503.status === 503) {
      assert.equal(
        await etcd503.text(),
        '{"message":"httpproxy: zero endpoints currently available"}',
      );
    } else await etcd503.body?.cancel();
  } finally {
    for (const p of proxies) await p.close();
    if (etcdProxy) await stop(etcdProxy);
    for (const m of members.values()) {
      m.kill("SIGKILL");
      await m.status;
    }
    Deno.removeSync(dir, { recursive: true });
  }
});

itest(
  "a data dir with both member/ and proxy/: etcd's fatal line, also from etcd 3.4",
  async () => {
    const dir = tempDir({ prefix: "etcd-proxy-both-" }).path;
    try {
      Deno.mkdirSync(`${dir}/member`);
      Deno.mkdirSync(`${dir}/proxy`);
      const theirs = await run("etcd", [
        `--data-dir=${dir}`,
        `--listen-client-urls=${clientURL(13)}`,
        `--advertise-client-urls=${clientURL(13)}`,
        `--listen-peer-urls=${peerURL(13)}`,
      ]);
      assert.equal(theirs.code, 1);
      const line = theirs.stderr.split("\n").find((l) => l.includes(" C | "))!;
      assert.equal(
        line.replace(/^\S+ \S+ /, ""),
        "C | etcdmain: invalid datadir. Both member and proxy directories exist.",
      );
      const t = testLog();
      assert.throws(() => identifyDataDir(dir, t.log));
      assert.equal(messages(t.lines).at(-1), line.replace(/^\S+ \S+ /, ""));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

itest("--discovery: the proxy reads a full discovery token without registering", async () => {
  await assertPortsFree(ip(5), [2379, 2380]);
  await assertPortsFree(ip(14), [2379]);
  const dir = tempDir({ prefix: "etcd-proxy-disc-" }).path;
  // One real member that is both the discovery backend and the cluster the token names.
  const member = spawn("etcd", [...singleMemberFlags("d1", ip(5), `${dir}/d1`), "--enable-v2"]);
  let proxy: V2Proxy | undefined;
  try {
    await member.waitFor(READY, 20_000);
    const token = `${clientURL(5)}/v2/keys/discovery/tok`;
    await (await putForm(`${token}/_config/size`, "1")).body?.cancel();
    await (await putForm(`${token}/8e9e05c52164694d`, `d1=${peerURL(5)}`)).body?.cancel();
    const before = await (await fetch(`${token}?recursive=true`)).text();

    const t = testLog();
    proxy = await runV2Proxy({
      config: await proxyConfig([
        "--proxy=on",
        `--data-dir=${dir}/p`,
        `--listen-client-urls=${clientURL(14)}`,
        `--discovery=${token}`,
      ]),
      log: t.log,
      readonly: false,
    });
    assert.ok(
      messages(t.lines).includes(`I | etcdmain: proxy: using peer urls [${peerURL(5)}] `),
      t.lines.join("\n"),
    );
    assert.ok(t.lines.some((l) => l.endsWith(`endpoints found ["${clientURL(5)}"]`)));
    const after = await (await fetch(`${token}?recursive=true`)).text();
    assert.equal(after.replace(/"index":\d+/, ""), before.replace(/"index":\d+/, ""));
    await (await putForm(`${clientURL(14)}/v2/keys/x`, "y")).body?.cancel();
    assert.equal((await (await fetch(`${clientURL(5)}/v2/keys/x`)).json()).node.value, "y");

    // A token without a size: etcd's proxy dies with the v2 error as is.
    const bad = runV2Proxy({
      config: await proxyConfig([
        "--proxy=on",
        `--data-dir=${dir}/p2`,
        `--listen-client-urls=${clientURL(14)}`,
        `--discovery=${clientURL(5)}/v2/keys/nosuch`,
      ]),
      log: testLog().log,
      readonly: false,
    });
    await assert.rejects(bad, { message: /^100: Key not found \(\/nosuch\) \[\d+\]$/ });
  } finally {
    await proxy?.close();
    member.kill("SIGKILL");
    await member.status;
    Deno.removeSync(dir, { recursive: true });
  }
});
