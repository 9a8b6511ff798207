import assert from "node:assert/strict";
import { crc32c } from "../../src/checksum/mod.ts";

Deno.test("crc32c: known vectors", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(enc("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 zero bytes
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43); // RFC 3720 B.4: 32 x 0xff
});

Deno.test("crc32c: continuing a checksum equals checksumming the concatenation", () => {
  const data = new Uint8Array(1000).map((_, i) => (i * 131 + 7) & 0xff);
  const whole = crc32c(data);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), whole, `cut ${cut}`);
  }
});
