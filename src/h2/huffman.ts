// HPACK's Huffman code (RFC 7541 §5.2, Appendix B). The code table comes from hpack.js; the
// encoder and the nibble-at-a-time decoding automaton are built from it here. Header strings are
// octet strings, held as latin1 JS strings (one char per byte).

import huffmanTables from "hpack.js/lib/hpack/huffman.js";
import { ByteBuffer } from "./bytes.ts";
import { ErrorCode, H2Error } from "./errors.ts";

/** [bit length, code] for symbols 0..255 and EOS (256). */
const CODES: ReadonlyArray<readonly [number, number]> =
  (huffmanTables as { encode: [number, number][] }).encode;
const EOS = 256;
if (CODES.length !== 257) throw new Error("unexpected hpack.js Huffman table");

const CODE_LENGTH = new Uint8Array(257);
const CODE = new Uint32Array(257);
for (let s = 0; s < 257; s++) [CODE_LENGTH[s], CODE[s]] = CODES[s];

// Decoding automaton: states are the code tree's internal nodes (root = 0); each entry of
// DECODE[(state << 4) | nibble] = next state | EMIT | symbol << 9 | FAIL. The shortest code is
// 5 bits, so a nibble completes at most one symbol.
const EMIT = 1 << 8;
const FAIL = 1 << 17;
const DECODE = new Int32Array(256 * 16);
/** States where the input may end: the root, or up to 7 bits of an all-ones (EOS) prefix. */
const ACCEPTING = new Uint8Array(256);

(function buildDecoder() {
  // children[2 * node + bit]: >= 0 an internal node, < 0 a leaf holding symbol -(child + 1).
  const children: number[] = [0, 0];
  let nodes = 1;
  for (let sym = 0; sym < 257; sym++) {
    let node = 0;
    for (let i = CODE_LENGTH[sym] - 1; i >= 0; i--) {
      const bit = (CODE[sym] >>> i) & 1;
      const slot = 2 * node + bit;
      if (i === 0) {
        children[slot] = -(sym + 1);
      } else {
        if (children[slot] === 0) {
          children[slot] = nodes++;
          children.push(0, 0);
        }
        node = children[slot];
      }
    }
  }
  if (nodes !== 256) throw new Error("Huffman tree is not complete");
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state, entry = 0;
      for (let i = 3; i >= 0; i--) {
        const child = children[2 * node + ((nibble >>> i) & 1)];
        if (child < 0) {
          const sym = -child - 1;
          if (sym === EOS) entry |= FAIL;
          else entry |= EMIT | (sym << 9);
          node = 0;
        } else {
          node = child;
        }
      }
      DECODE[(state << 4) | nibble] = entry | node;
    }
  }
  let node = 0;
  ACCEPTING[0] = 1;
  for (let depth = 1; depth <= 7; depth++) {
    node = children[2 * node + 1];
    ACCEPTING[node] = 1;
  }
})();

/** Length in bytes of `s` Huffman-coded (with padding). */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += CODE_LENGTH[s.charCodeAt(i) & 0xff];
  return (bits + 7) >>> 3;
}

/** Appends the Huffman coding of latin1 string `s`, padded with the EOS prefix (ones). */
export function huffmanEncode(s: string, out: ByteBuffer): void {
  out.ensure(huffmanEncodedLength(s));
  const buf = out.buf;
  let pos = out.length;
  // acc holds < 8 pending bits plus one code (<= 30 bits): at most 37 bits, exact in a double.
  let acc = 0, n = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = CODE_LENGTH[sym];
    acc = acc * (1 << len) + CODE[sym];
    n += len;
    while (n >= 8) {
      n -= 8;
      const div = 2 ** n;
      const byte = Math.floor(acc / div);
      buf[pos++] = byte;
      acc -= byte * div;
    }
  }
  if (n > 0) buf[pos++] = (acc << (8 - n)) | (0xff >>> n);
  out.length = pos;
}

const decodeScratch = { buf: new Uint8Array(256) };

/** Decodes src[start, end) to a latin1 string; COMPRESSION_ERROR on EOS or bad padding. */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  const max = Math.ceil(((end - start) * 8) / 5);
  if (decodeScratch.buf.length < max) decodeScratch.buf = new Uint8Array(max * 2);
  const out = decodeScratch.buf;
  let n = 0, state = 0;
  for (let i = start; i < end; i++) {
    const b = src[i];
    let e = DECODE[(state << 4) | (b >>> 4)];
    if (e & FAIL) throw huffmanError("EOS symbol in Huffman-coded string");
    if (e & EMIT) out[n++] = (e >>> 9) & 0xff;
    e = DECODE[((e & 0xff) << 4) | (b & 0xf)];
    if (e & FAIL) throw huffmanError("EOS symbol in Huffman-coded string");
    if (e & EMIT) out[n++] = (e >>> 9) & 0xff;
    state = e & 0xff;
  }
  if (!ACCEPTING[state]) throw huffmanError("invalid Huffman padding");
  return latin1(out, 0, n);
}

function huffmanError(msg: string) {
  return new H2Error(ErrorCode.COMPRESSION_ERROR, msg);
}

/** Bytes [start, end) as a latin1 string, without TextDecoder's per-call cost on short runs. */
export function latin1(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(
      null,
      b.subarray(i, Math.min(end, i + 4096)) as unknown as number[],
    );
  }
  return s;
}
