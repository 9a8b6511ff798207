// The health endpoints. /health as etcd 3.4 answers it, side by side with a real etcd under a
// NOSPACE alarm (?exclude=NOSPACE ignores it) and a CORRUPT one; /livez, /readyz and
// /health?serializable=true as etcd 3.5.11 defines them (etcd 3.4 has none of these; the
// expectations follow 3.5.11's server/etcdserver/api/etcdhttp/health.go), including a member
// that has lost its leader. Address block 127.0.172.x.
import assert from "node:assert/strict";
import { itest, memberFlags, type Proc, startEtcdTs, stop } from "../../helpers/process.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { etcdctl } from "../../helpers/etcdctl.ts";
import { GrpcMember } from "../../helpers/grpc_member.ts";
import { startPair } from "../../helpers/pair.ts";

/** Status, content type and body of a GET (or `method`). */
async function get(url: string, method = "GET"): Promise<[number, string, string]> {
  const res = await fetch(url, { method });
  return [res.status, res.headers.get("content-type") ?? "", await res.text()];
}

/** etcd's /health warnings about alarms, with member IDs and timestamps masked. */
const alarmLines = (p: Proc) =>
  p.lines.filter((l) => l.includes("/health error due to"))
    .map((l) => l.slice(27).replace(/memberID:\d+/, "memberID:<id>"));

/** /health through a NOSPACE alarm, then a CORRUPT one raised over gRPC (etcd 3.4 takes an
 * ACTIVATE from any client): what one member answers, in order. */
async function alarmScript(url: string): Promise<unknown[]> {
  const steps: unknown[] = [await get(`${url}/health`)];
  const put = await etcdctl(url, "put", "a", "b");
  steps.push(put.code, put.stderr.trim().split("\n").at(-1));
  steps.push((await etcdctl(url, "alarm", "list")).stdout.replace(/\d+/, "<id>"));
  steps.push(await get(`${url}/health`));
  steps.push(await get(`${url}/health?exclude=NOSPACE`));
  steps.push(await get(`${url}/health?exclude=CORRUPT`));
  const g = new GrpcMember(url.slice("http://".length));
  const status = await g.call("etcdserverpb.Maintenance", "Status", {});
  assert.ok("ok" in status);
  const raised = await g.call("etcdserverpb.Maintenance", "Alarm", {
    action: 1, // ACTIVATE
    memberID: status.ok.header.memberId,
    alarm: 2, // CORRUPT
  });
  g.close();
  steps.push("ok" in raised);
  steps.push(await get(`${url}/health?exclude=NOSPACE`));
  steps.push(await get(`${url}/health?exclude=NOSPACE&exclude=CORRUPT`));
  return steps;
}

const TEXT = "text/plain; charset=utf-8";

/** /livez and /readyz of a member with NOSPACE and CORRUPT raised, as etcd 3.5.11 answers. */
async function probesUnderAlarms(u: string): Promise<void> {
  // NOSPACE concerns neither probe; CORRUPT fails /readyz's data_corruption.
  assert.deepEqual(await get(`${u}/livez`), [200, TEXT, "ok\n"]);
  assert.deepEqual(await get(`${u}/livez?verbose`), [200, TEXT, "[+]serializable_read ok\nok\n"]);
  const failed = "[-]data_corruption failed: alarm activated: CORRUPT\n";
  const reads = "[+]serializable_read ok\n[+]linearizable_read ok\n";
  assert.deepEqual(await get(`${u}/readyz`), [503, TEXT, `${failed}${reads}\n`]);
  assert.deepEqual(await get(`${u}/readyz/data_corruption`), [503, TEXT, `${failed}\n`]);
  assert.deepEqual(await get(`${u}/readyz?exclude=data_corruption&verbose`), [
    200,
    TEXT,
    `${reads}ok\n`,
  ]);
  assert.deepEqual(await get(`${u}/readyz/linearizable_read?verbose`), [
    200,
    TEXT,
    "[+]linearizable_read ok\nok\n",
  ]);
  // Unknown checks are ignored by exclude; unknown paths are Go's 404; only GET is served.
  assert.equal((await get(`${u}/readyz?exclude=nothing&exclude=data_corruption`))[0], 200);
  assert.deepEqual(await get(`${u}/readyz/nothing`), [404, TEXT, "404 page not found\n"]);
  assert.deepEqual(await get(`${u}/livez`, "POST"), [405, TEXT, "Method Not Allowed\n"]);
}

itest("health: /health under alarms as etcd 3.4, /livez and /readyz as 3.5.11", async () => {
  // A quota of one byte: the first put raises NOSPACE.
  const pair = await startPair("127.0.172.1", "127.0.172.2", () => ["--quota-backend-bytes=1"]);
  const [etcd, ts] = pair.members;
  try {
    const [e, t] = await Promise.all(pair.members.map((m) => alarmScript(m.url)));
    assert.deepEqual(t, e);
    assert.deepEqual(e[4], [503, TEXT, '{"health":"false"}\n']);
    assert.deepEqual(e[5], [200, TEXT, '{"health":"true"}']);
    assert.deepEqual(e[8], [503, TEXT, '{"health":"false"}\n']);
    assert.deepEqual(alarmLines(ts.proc), alarmLines(etcd.proc));
    assert.ok(alarmLines(etcd.proc).length >= 2);
    await probesUnderAlarms(ts.url);
  } finally {
    await pair.stop();
  }
});

itest("health: a member without a leader is live but not ready", async () => {
  await using dir = tempDir({ prefix: "health-noleader-" });
  const ips = ["127.0.172.11", "127.0.172.12"];
  for (const ip of ips) await assertPortsFree(ip, [2379, 2380]);
  const members = ips.map((ip, i) => ({
    name: `m${i}`,
    clientURL: `http://${ip}:2379`,
    peerURL: `http://${ip}:2380`,
    dataDir: `${dir.path}/m${i}`,
  }));
  const cluster = members.map((m) => `${m.name}=${m.peerURL}`).join(",");
  // A short election timeout keeps etcd's request timeout (5 s + two of them) short.
  const timing = ["--heartbeat-interval=50", "--election-timeout=500"];
  const procs = members.map((m) =>
    startEtcdTs([...memberFlags(m), "--initial-cluster", cluster, ...timing])
  );
  try {
    await Promise.all(procs.map((p) => p.waitFor("ready to serve client requests", 30_000)));
    const u = members[0].clientURL;
    assert.deepEqual(await get(`${u}/readyz`), [200, TEXT, "ok\n"]);
    const since = procs[0].lines.length;
    await stop(procs[1]);
    await procs[0].waitFor(/lost leader/, 20_000, since);

    assert.deepEqual(await get(`${u}/health`), [
      503,
      TEXT,
      '{"health":"false"}\n',
    ]);
    assert.deepEqual(await get(`${u}/health?serializable=true`), [
      200,
      TEXT,
      '{"health":"true"}',
    ]);
    assert.deepEqual(await get(`${u}/livez`), [200, TEXT, "ok\n"]);
    assert.deepEqual(await get(`${u}/readyz?exclude=linearizable_read`), [
      200,
      TEXT,
      "ok\n",
    ]);
    // The linearizable read waits etcd's request timeout for a leader, then fails.
    assert.deepEqual(await get(`${u}/readyz`), [
      503,
      TEXT,
      "[+]data_corruption ok\n[+]serializable_read ok\n" +
      "[-]linearizable_read failed: etcdserver: request timed out\n\n",
    ]);
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
});
