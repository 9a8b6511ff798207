// The load generator's JSON gateway transport (--gateway-http1): /v3/kv/put and /v3/kv/range
// over HTTP/1.1, one kept-alive connection per request in flight, as Python and shell clients
// use a member (a requests.Session, curl --keepalive). node: modules only, like load.ts.

import { Http1Connection } from "../../tests/support/http1.ts";
import type { Caller, LoadConfig } from "./load.ts";
import { clientTLSOptions } from "./tls.ts";

const enc = new TextEncoder();
const base64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** A JSON gateway request body: the key, and the value for a put. */
function body(key: string, value?: Uint8Array): Uint8Array {
  const json: Record<string, string> = { key: base64(enc.encode(key)) };
  if (value) json.value = base64(value);
  return enc.encode(JSON.stringify(json));
}

/** Sends on `conn`, and on a new connection once a server has closed it (as Python's requests
 * does), so that a server answering Connection: close is measured too. */
function gatewayCaller(
  conn: Http1Connection,
  path: string,
  reconnect: () => Promise<Http1Connection>,
): Caller {
  const headers = { "Content-Type": "application/json" };
  let destroyed = false;
  return {
    call: async (b) => {
      if (conn.isClosed) conn = await reconnect();
      const a = await conn.request({ method: "POST", path, headers, body: b });
      if (a.status !== 200) {
        throw new Error(`HTTP ${a.status}: ${new TextDecoder().decode(a.body)}`);
      }
    },
    get isClosed() {
      return destroyed;
    },
    destroy: () => {
      destroyed = true;
      conn.destroy();
    },
  };
}

/** The connections, one per request in flight, and the request bodies (keys first). */
export async function prepareGateway(
  cfg: LoadConfig,
  keys: string[],
  value: Uint8Array,
): Promise<{ callers: Caller[]; bodies: Uint8Array[] }> {
  const tls = cfg.tls && clientTLSOptions(cfg.tls);
  const path = cfg.workload === "put" ? "/v3/kv/put" : "/v3/kv/range";
  const callers: Caller[] = [];
  for (let i = 0; i < cfg.inflight; i++) {
    const ep = cfg.endpoints[i % cfg.endpoints.length];
    const connect = () => Http1Connection.connect(ep.host, ep.port, { tls });
    callers.push(gatewayCaller(await connect(), path, connect));
    if (i === 0 && cfg.workload === "range") {
      const put = gatewayCaller(await connect(), "/v3/kv/put", connect);
      await put.call(body(keys[0], value));
      put.destroy();
    }
  }
  if (cfg.workload === "put") return { callers, bodies: keys.map((k) => body(k, value)) };
  return { callers, bodies: [body(keys[0])] };
}
