// TCP dials and listens with Go's error wording ("dial tcp 127.0.0.1:2379: connect: connection
// refused"), which the gateway logs and prints as etcd does.
import net from "node:net";
import { type DnsResolver, joinHostPort, lookupHost, splitHostPort } from "../discovery/mod.ts";

const SYSCALL_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  ETIMEDOUT: "connection timed out",
  EADDRNOTAVAIL: "cannot assign requested address",
  EADDRINUSE: "address already in use",
  EACCES: "permission denied",
  ECONNRESET: "connection reset by peer",
};

/** "<syscall>: <text>" for a node socket error, as Go's os.SyscallError prints. */
export function syscallText(err: unknown, syscall: string): string {
  const code = (err as { code?: string }).code ?? "";
  // Deno reports binding a non-local address as EINVAL where Linux says EADDRNOTAVAIL.
  const text = syscall === "bind" && code === "EINVAL"
    ? SYSCALL_TEXT.EADDRNOTAVAIL
    : SYSCALL_TEXT[code];
  return text ? `${syscall}: ${text}` : (err as Error).message;
}

/** Go orders IPv4 before IPv6 when it dials a name with both. */
function ipv4First(addrs: string[]): string[] {
  return [...addrs.filter((a) => net.isIP(a) === 4), ...addrs.filter((a) => net.isIP(a) !== 4)];
}

function connectOnce(ip: string, port: number, timeoutMs?: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: ip, port, allowHalfOpen: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`dial tcp ${joinHostPort(ip, port)}: i/o timeout`));
      }, timeoutMs);
    }
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.removeAllListeners("error");
      resolve(sock);
    });
    sock.once("error", (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new Error(`dial tcp ${joinHostPort(ip, port)}: ${syscallText(err, "connect")}`));
    });
  });
}

/** net.Dial("tcp", hostport): resolves the host, tries its addresses in turn. */
export async function dialTcp(
  resolver: DnsResolver,
  hostport: string,
  timeoutMs?: number,
): Promise<net.Socket> {
  let host: string, port: string;
  try {
    ({ host, port } = splitHostPort(hostport));
  } catch (err) {
    throw new Error(`dial tcp ${hostport}: ${(err as Error).message}`);
  }
  let addrs: string[];
  try {
    addrs = ipv4First(await lookupHost(resolver, host === "" ? "127.0.0.1" : host));
  } catch (err) {
    throw new Error(`dial tcp: ${(err as Error).message}`);
  }
  let first: unknown;
  for (const ip of addrs) {
    try {
      return await connectOnce(ip, Number(port), timeoutMs);
    } catch (err) {
      first ??= err;
    }
  }
  throw first;
}

/** net.Listen("tcp", ip:port); rejects with Go's `listen tcp <addr>: bind: ...` text. */
export function listenTcp(ip: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    server.once("error", (err) => {
      reject(new Error(`listen tcp ${joinHostPort(ip, port)}: ${syscallText(err, "bind")}`));
    });
    server.listen({ host: ip, port, exclusive: true }, () => {
      server.removeAllListeners("error");
      resolve(server);
    });
  });
}
