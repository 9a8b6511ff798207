// The gateway in-process: connections spliced to backends, dead backends deactivated and
// re-probed, clients closed when nothing is left. Address block 127.0.80.x (ports 3xxxx).
import assert from "node:assert/strict";
import net from "node:net";
import type { GatewayConfig } from "../../../src/config/mod.ts";
import { type Gateway, startGateway } from "../../../src/gateway/mod.ts";
import { testLog } from "../../helpers/log.ts";

const HOST = "127.0.80.30";

function config(endpoints: string[], port: number): GatewayConfig {
  return {
    endpoints,
    listenAddr: `${HOST}:${port}`,
    discoverySrv: "",
    discoverySrvName: "",
    insecureDiscovery: false,
    trustedCaFile: "",
    retryDelay: 100,
  };
}

async function start(cfg: GatewayConfig) {
  const t = testLog("info", { logger: "zap", zapTimestamp: "epoch" });
  /** The zap entries so far. */
  const entries = (): Record<string, unknown>[] => t.lines.map((l) => JSON.parse(l));
  /** Resolves once an entry with this msg is logged at index `since` or later. */
  const logged = (msg: string, since: number) => t.waitFor(`"msg":"${msg}"`, 10_000, since);
  const out: string[] = [];
  const gw = await startGateway(cfg, {
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    log: t.log,
  });
  assert.notEqual(typeof gw, "number", out.join(""));
  return { gw: gw as Gateway, entries, logged };
}

/** A backend answering every line with its name. */
function backend(name: string, port: number): Promise<net.Server> {
  const srv = net.createServer((s) => s.on("data", () => s.write(name)));
  return new Promise((r) => srv.listen(port, HOST, () => r(srv)));
}

/** One connection: send a byte, return the answer ("" when the gateway closes it). */
function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, HOST);
    let got = "";
    s.on("data", (d) => {
      got += d;
      s.end();
    });
    s.on("close", () => resolve(got));
    // A connection the gateway drops may reset our write: that is an empty answer too.
    s.on("error", () => resolve(got));
    s.write("?");
  });
}

Deno.test("tcpproxy: round robin, deactivation, re-activation", async () => {
  const a = await backend("a", 31001);
  let b = await backend("b", 31002);
  const { gw, entries, logged } = await start(
    config([`${HOST}:31001`, `http://${HOST}:31002`], 31000),
  );
  try {
    assert.equal(typeof entries()[0].ts, "number");
    assert.deepEqual(entries()[0].endpoints, [`${HOST}:31001`, `${HOST}:31002`]);
    assert.deepEqual([await ask(31000), await ask(31000), await ask(31000)], ["a", "b", "a"]);
    const beforeClose = entries().length;
    await new Promise((r) => b.close(r));
    assert.deepEqual([await ask(31000), await ask(31000), await ask(31000)], ["a", "a", "a"]);
    const down = entries().filter((l) => l.msg === "deactivated endpoint");
    assert.deepEqual(down.map((l) => [l.address, l.interval, l.error]), [
      [`${HOST}:31002`, 0.1, `dial tcp ${HOST}:31002: connect: connection refused`],
    ]);
    await logged("failed to activate endpoint (stay inactive for another interval)", beforeClose);
    const beforeRestart = entries().length;
    b = await backend("b", 31002);
    await logged("activated", beforeRestart);
    const answers = new Set([await ask(31000), await ask(31000)]);
    assert.deepEqual([...answers].sort(), ["a", "b"]);
  } finally {
    await gw.close();
    await new Promise((r) => a.close(r));
    await new Promise((r) => b.close(r));
  }
});

Deno.test("tcpproxy: with every endpoint down the client is closed", async () => {
  const { gw, entries } = await start(config([`${HOST}:31011`, `${HOST}:31012`], 31010));
  try {
    assert.equal(await ask(31010), "");
    assert.equal(entries().filter((l) => l.msg === "deactivated endpoint").length, 2);
    assert.equal(await ask(31010), "");
  } finally {
    await gw.close();
  }
});
