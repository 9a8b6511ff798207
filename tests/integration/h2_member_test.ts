// The client port's HTTP/2 transport on a real member, through etcdctl 3.4: the per-endpoint
// commands whose :authority is the whole endpoint URL (endpoint status, hashkv, defrag, alarm)
// and a 1.4 MiB value, on the lean server and on node:http2. Address block 127.0.61.x.
import assert from "node:assert/strict";
import { itest, singleMemberFlags, startReady, stop } from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl, etcdctlWith } from "../helpers/etcdctl.ts";

const IP = "127.0.61.1";
const EP = `http://${IP}:2379`;

async function withMember(env: Record<string, string>, fn: () => Promise<void>) {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const m = await startReady(singleMemberFlags("s1", IP, `${dir}/data`), { env });
  try {
    await fn();
  } finally {
    await stop(m);
    Deno.removeSync(dir, { recursive: true });
  }
}

async function ok(...args: string[]): Promise<string> {
  const r = await etcdctl(EP, ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

itest(
  "lean HTTP/2: etcdctl per-endpoint commands (URL as :authority) and a 1.4 MiB value",
  async () => {
    await withMember({ ETCD_TS_HTTP2: "lean" }, async () => {
      await ok("put", "k", "v");
      const status = await ok("endpoint", "status", "-w", "json");
      assert.equal(JSON.parse(status)[0].Endpoint, EP);
      assert.match(await ok("endpoint", "hashkv"), new RegExp(`^${EP}, \\d+`));
      assert.match(await ok("defrag"), /Finished defragmenting etcd member/);
      assert.equal(await ok("alarm", "list"), "");
      assert.match((await etcdctl(EP, "endpoint", "health")).stderr, /is healthy/);
      // Just under --max-request-bytes (1.5 MiB), through stdin (argv caps one argument at 128 KiB).
      const big = "x".repeat(1400 * 1024);
      const put = await etcdctlWith({ stdin: big })(EP, "put", "big");
      assert.equal(put.code, 0, put.stderr);
      assert.equal(await ok("get", "big", "--print-value-only"), big + "\n");
    });
  },
);

itest("node:http2 stays selectable with ETCD_TS_HTTP2=node", async () => {
  await withMember({ ETCD_TS_HTTP2: "node" }, async () => {
    await ok("put", "k", "v");
    assert.equal(await ok("get", "k", "--print-value-only"), "v\n");
  });
});
