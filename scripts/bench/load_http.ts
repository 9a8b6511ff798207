// The JSON gateway over HTTP/1.1, as shell and Python clients use it: POST /v3/kv/put with
// base64 key and value, each in-flight slot on a keep-alive socket of its own (node:http's Agent).
// Counts the sockets opened: a member that answers `Connection: close` pays one per request.

import { Agent, request } from "node:http";
import { Buffer } from "node:buffer";
import {
  benchKey,
  benchValue,
  type Load,
  type LoadConfig,
  type Meter,
  xorshift,
} from "./load_core.ts";

const PUT_PATH = "/v3/kv/put";

function post(agent: Agent, host: string, port: number, body: string, meter: Meter) {
  return new Promise<void>((resolve, reject) => {
    const req = request({
      host,
      port,
      path: PUT_PATH,
      method: "POST",
      agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.once("end", () => {
        if (res.statusCode === 200) resolve();
        else reject(new Error(`${PUT_PATH} answered HTTP ${res.statusCode}`));
      });
      res.once("error", reject);
    });
    req.once("socket", () => {
      if (!req.reusedSocket) meter.count("sockets");
    });
    req.once("error", reject);
    req.end(body);
  });
}

export function makeGatewayLoad(cfg: LoadConfig, meter: Meter): Promise<Load> {
  if (cfg.tls) throw new Error("the gateway workload runs on plain http only");
  const agent = new Agent({ keepAlive: true, maxSockets: cfg.inflight });
  const value = Buffer.from(benchValue(cfg.valueSize)).toString("base64");
  const bodies = Array.from(
    { length: cfg.keySpace },
    (_, i) => JSON.stringify({ key: Buffer.from(benchKey(i)).toString("base64"), value }),
  );
  const random = xorshift();
  meter.counters.sockets = 0; // printed when none was opened too: keep-alive at work
  return Promise.resolve({
    timed: true,
    op(slot) {
      const ep = cfg.endpoints[slot % cfg.endpoints.length];
      return post(agent, ep.host, ep.port, bodies[Math.floor(random() * bodies.length)], meter);
    },
    close: () => agent.destroy(),
  });
}
