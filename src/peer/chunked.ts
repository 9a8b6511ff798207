// HTTP/1.1 chunked transfer coding: the framing of every body whose length is not known ahead —
// a stream's response, which lasts as long as the connection, and a snapshot upload, which
// streams the database as it is read.

const latin1 = new TextEncoder();
const text = new TextDecoder("latin1");
const CRLF = latin1.encode("\r\n");

/** One chunk: its size line, the data, CRLF. An empty `data` would end the body: never sent. */
export function encodeChunk(data: Uint8Array): Uint8Array {
  const size = latin1.encode(data.length.toString(16) + "\r\n");
  const out = new Uint8Array(size.length + data.length + 2);
  out.set(size);
  out.set(data, size.length);
  out.set(CRLF, out.length - 2);
  return out;
}

/** The last chunk, with no trailers. */
export const LAST_CHUNK = latin1.encode("0\r\n\r\n");

const MAX_LINE = 4096;

type State = "size" | "data" | "dataEnd" | "trailer" | "done";

/** Reads a chunked body from arbitrarily split bytes; the data comes out as it arrives. */
export class ChunkedDecoder {
  #state: State = "size";
  #line = "";
  #left = 0; // data bytes left in the current chunk, or CRLF bytes left after it

  /** The body's last chunk and trailers have been read. */
  get done(): boolean {
    return this.#state === "done";
  }

  /** Feeds bytes; returns the body data among them. Throws on a malformed body. */
  push(b: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let p = 0;
    while (p < b.length && this.#state !== "done") {
      if (this.#state === "data") {
        const k = Math.min(this.#left, b.length - p);
        out.push(b.subarray(p, p + k));
        p += k;
        this.#left -= k;
        if (this.#left === 0) [this.#state, this.#left] = ["dataEnd", 2];
        continue;
      }
      if (this.#state === "dataEnd") {
        if (b[p++] !== CRLF[2 - this.#left]) throw new Error("malformed chunked encoding");
        if (--this.#left === 0) this.#state = "size";
        continue;
      }
      const eol = b.indexOf(10, p);
      const end = eol < 0 ? b.length : eol + 1;
      this.#line += text.decode(b.subarray(p, end));
      p = end;
      if (this.#line.length > MAX_LINE) throw new Error("malformed chunked encoding");
      if (eol >= 0) this.#endOfLine(this.#line.replace(/\r?\n$/, ""));
    }
    return out;
  }

  #endOfLine(line: string): void {
    this.#line = "";
    if (this.#state === "trailer") {
      if (line === "") this.#state = "done";
      return;
    }
    const size = line.split(";")[0].trim();
    if (!/^[0-9a-fA-F]{1,15}$/.test(size)) throw new Error("malformed chunked encoding");
    this.#left = parseInt(size, 16);
    this.#state = this.#left === 0 ? "trailer" : "data";
  }
}
