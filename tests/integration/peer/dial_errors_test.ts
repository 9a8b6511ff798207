// A peer connection that fails more than once (a refused upload: the peer answers, closes,
// and each later write fails) must not end the member: every error of a dialled socket has a
// listener for the socket's whole life. Without one, the second error was an uncaught
// exception (seen as `Uncaught (in promise) Error: write EPIPE` in a fault run).
import assert from "node:assert/strict";
import net from "node:net";
import { dial } from "../../../src/peer/http1.ts";

const HOST = "127.0.228.1";

Deno.test("a dialled peer socket survives every error after the peer closes it", async () => {
  const server = net.createServer((conn) => conn.destroy());
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const socket = await dial(new URL(`http://${HOST}:${port}`), undefined, 5_000);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    // Write until the kernel reports the peer gone: at least one failed write, then more.
    const block = new Uint8Array(64 * 1024);
    let errors = 0;
    socket.on("error", () => errors++);
    while (!socket.destroyed) {
      await new Promise<void>((resolve) => socket.write(block, () => resolve()));
    }
    await closed;
    assert.ok(errors >= 1, "the peer's close surfaced as an error");
    assert.equal(socket.listenerCount("error"), 2, "the dial's own listener stays");
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
