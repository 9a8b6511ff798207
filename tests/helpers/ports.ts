// Loopback ports for integration tests: each file binds its own 127.0.N.x block and checks
// first that nothing else holds the ports it needs.
import net from "node:net";

/** Fails the test early when another process already holds one of the ports. */
export async function assertPortsFree(host: string, ports: number[]): Promise<void> {
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const srv = net.createServer();
      srv.once("error", () => reject(new Error(`${host}:${port} is in use; cannot run this test`)));
      srv.listen(port, host, () => srv.close(() => resolve()));
    });
  }
}

/** The URL of a port on `host` with nothing listening (bound, then released). */
export async function closedPort(host: string): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://${host}:${port}`;
}
