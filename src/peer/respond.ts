// Answers and request bodies of the peer listener, shared by its raft paths and the paths that
// serve requests members forward to the leader.
import type http from "node:http";

type Req = http.IncomingMessage;
type Res = http.ServerResponse;

const utf8 = new TextEncoder();

/** Go's http.Error: plain text, newline-terminated. */
export function httpError(res: Res, status: number, body: string): void {
  const text = utf8.encode(body + "\n");
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    "Content-Length": text.length,
  });
  res.end(text);
}

/** etcd's allowMethod: anything else gets 405 with `Allow`. */
export function allowMethod(req: Req, res: Res, method: string): boolean {
  if (req.method === method) return true;
  res.setHeader("Allow", method);
  httpError(res, 405, "Method Not Allowed");
  return false;
}

export function sendBody(
  res: Res,
  contentType: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
  status = 200,
): void {
  const bytes = typeof body === "string" ? utf8.encode(body) : body;
  res.writeHead(status, {
    ...headers,
    "Content-Type": contentType,
    "Content-Length": bytes.length,
  });
  res.end(bytes);
}

export function sendJSON(res: Res, body: string, headers: Record<string, string> = {}): void {
  sendBody(res, "application/json", body, headers);
}

const EMPTY = new Uint8Array(0);

// node:http hands out Buffers, whose slice() shares memory; decoded messages must own theirs.
export function plain(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export function readBody(req: Req): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    const parts: Uint8Array[] = [];
    let length = 0;
    req.on("data", (c: Uint8Array) => {
      parts.push(plain(c));
      length += c.length;
    });
    req.once("end", () => {
      if (Number.isFinite(declared) && length < declared) {
        return reject(new Error("unexpected EOF"));
      }
      if (parts.length === 1) return resolve(parts[0]);
      const out = length === 0 ? EMPTY : new Uint8Array(length);
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      resolve(out);
    });
    req.once("error", reject);
    req.once("close", () => reject(new Error("unexpected EOF")));
  });
}
