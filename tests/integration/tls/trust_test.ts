import assert from "node:assert/strict";
import net from "node:net";
import { createSecureServer, loadServerTLS } from "../../../src/tls/mod.ts";
import { makeTLSCerts, tlsConfig } from "../../helpers/certs.ts";
import { testLog } from "../../helpers/log.ts";

Deno.test("useSystemTrustStore: fetch and node:https trust a CA installed via SSL_CERT_FILE", async () => {
  const dir = await makeTLSCerts();
  const cfg = tlsConfig({ certFile: `${dir}/server-ec.pem`, keyFile: `${dir}/server-ec1.key` });
  const server = createSecureServer(await loadServerTLS(cfg, { port: "client" }), {
    log: testLog().log,
    onSecure: (s) =>
      s.once(
        "data",
        () => s.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"),
      ),
  });
  await new Promise<void>((r) => server.listen(0, "127.0.71.1", r));
  const url = `https://127.0.71.1:${(server.address() as net.AddressInfo).port}/`;
  const script = `${dir}/client.ts`;
  const trust = new URL("../../../src/tls/trust.ts", import.meta.url).href;
  Deno.writeTextFileSync(
    script,
    `import { useSystemTrustStore } from ${JSON.stringify(trust)};
import https from "node:https";
if (Deno.args[0] === "system") useSystemTrustStore();
const f = await fetch(${JSON.stringify(url)}).then((r) => r.text(), (e) => "error: " + e.message);
const n = await new Promise((res) => https.get(${
      JSON.stringify(url)
    }, (r) => { r.resume(); res(r.statusCode); })
  .on("error", (e) => res("error: " + e.message)));
console.log(JSON.stringify([f, n]));`,
  );
  const run = async (mode: string) => {
    const env = { SSL_CERT_FILE: `${dir}/ca.pem`, SSL_CERT_DIR: `${dir}/none` };
    const o = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", script, mode],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return JSON.parse(new TextDecoder().decode(o.stdout));
  };
  try {
    assert.deepEqual(await run("system"), ["ok", 200]);
    const [f, n] = await run("bundled");
    assert.match(f, /^error/);
    assert.match(String(n), /^error/);
  } finally {
    await new Promise((r) => server.close(r));
    await Deno.remove(dir, { recursive: true });
  }
});
