// gofail's HTTP endpoint (GOFAIL_HTTP=host:port): set, read and clear failpoints in a running
// member, as etcd's robustness tests do.
//   PUT /<name> with the terms as body   -> 204
//   GET /                                 -> every failpoint, `name=terms` a line
//   GET /<name>                           -> its terms
//   DELETE /<name>                        -> 204
import { FAILPOINTS_TABLE } from "./names.ts";
import { disable, enable, status } from "./registry.ts";

export interface FailpointServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves the endpoint on `hostPort` ("127.0.0.1:22381"; port 0 picks one). */
export function serveFailpoints(hostPort: string): Promise<FailpointServer> {
  const i = hostPort.lastIndexOf(":");
  const hostname = hostPort.slice(0, i).replace(/^\[(.*)\]$/, "$1") || "0.0.0.0";
  const port = Number(hostPort.slice(i + 1));
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname,
        port,
        onListen: (addr) => resolve({ port: addr.port, close: () => server.shutdown() }),
      }, handle);
    } catch (err) {
      reject(err);
    }
  });
}

// Go's http.Error: the text and a newline, as plain text.
function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

async function handle(req: Request): Promise<Response> {
  const name = decodeURIComponent(new URL(req.url).pathname.slice(1));
  switch (req.method) {
    case "PUT":
      try {
        enable(name, await req.text());
        return new Response(null, { status: 204 });
      } catch {
        return text(400, `failed to set failpoint ${name}`);
      }
    case "GET": {
      if (name === "") {
        const lines = Object.keys(FAILPOINTS_TABLE).sort().map((n) =>
          `${n}=${status(n)?.terms ?? ""}`
        );
        return text(200, lines.join("\n"));
      }
      const s = status(name);
      return s ? text(200, s.terms) : text(404, `failed to GET: ${name} is not set`);
    }
    case "DELETE":
      try {
        disable(name);
        return new Response(null, { status: 204 });
      } catch (err) {
        return text(400, `failed to delete failpoint ${(err as Error).message}`);
      }
    default:
      return text(405, "Method not allowed", { allow: "PUT" });
  }
}
