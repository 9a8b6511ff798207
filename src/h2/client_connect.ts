// Dialing a client connection: TCP, or TLS that must negotiate h2 through ALPN, within a
// timeout; the connection is handed over once the server's SETTINGS have arrived.

import * as net from "node:net";
import * as tls from "node:tls";
import { ClientConnection, type ClientOptions } from "./client.ts";

/** Opens a connection and resolves once the server's SETTINGS have arrived. */
export function connect(opts: ClientOptions): Promise<ClientConnection> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => onError(new Error(`connect to ${opts.host}:${opts.port} timed out`)),
      opts.connectTimeoutMs ?? 10_000,
    );
    const start = () => {
      socket.off("error", onError);
      clearTimeout(timer);
      const conn = new ClientConnection(socket, opts);
      conn.ready.then(() => resolve(conn), reject);
    };
    if (opts.tls) {
      const extra = typeof opts.tls === "object" ? opts.tls : {};
      socket = tls.connect({
        servername: net.isIP(opts.host) ? undefined : opts.host,
        ...extra,
        host: opts.host,
        port: opts.port,
        ALPNProtocols: ["h2"],
      });
      socket.once("secureConnect", () => {
        if ((socket as tls.TLSSocket).alpnProtocol !== "h2") {
          onError(new Error(`${opts.host}:${opts.port} did not negotiate h2 via ALPN`));
        } else start();
      });
    } else {
      socket = net.connect({ host: opts.host, port: opts.port });
      socket.once("connect", start);
    }
    socket.once("error", onError);
  });
}
