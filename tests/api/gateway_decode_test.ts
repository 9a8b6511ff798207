// The gateway's body decoding: leniency and error wording as etcd 3.4.23's gateway answers
// (every expected message below was read from a real etcd 3.4.23).

import assert from "node:assert/strict";
import { decodeRequest, goBase64 } from "../../src/api/gateway/decode.ts";
import { jsonValues } from "../../src/api/gateway/json_scan.ts";

const te = new TextEncoder();

function decodeRange(body: string) {
  const first = jsonValues(body).next();
  return decodeRequest("etcdserverpb.RangeRequest", first.done ? undefined : first.value);
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return "(no error)";
}

Deno.test("gateway decode: Go's syntax error messages", () => {
  const cases: [string, string][] = [
    ["{bad", "invalid character 'b' looking for beginning of object key string"],
    ['{"key":"Zm9v",}', "invalid character '}' looking for beginning of object key string"],
    ['{"key":"Zm9v"', "unexpected EOF"],
    ['{"key":"Zm9v"]', "invalid character ']' after object key:value pair"],
    ['{"key" "x"}', `invalid character '"' after object key`],
    ['{"key":"Zm9v","limit":-x}', "invalid character 'x' in numeric literal"],
    ['{"key":tru}', "invalid character '}' in literal true (expecting 'e')"],
    ['{"key":"\\x01"}', "invalid character 'x' in string escape code"],
    ['{"key":"\\q"}', "invalid character 'q' in string escape code"],
    ['{"key":"Zm9v","limit":"x"}', "invalid character 'x' looking for beginning of value"],
    ['{"key":"Zm9v","limit":""}', "unexpected end of JSON input"],
    ['{"key":"Zm9v","limit":"12x"}', "invalid character 'x' after top-level value"],
    ['{"key":"Zm9v","limit":"-"}', "invalid character ' ' in numeric literal"],
    ['{"key":"Zm9v","limit":"01"}', "invalid character '1' after top-level value"],
  ];
  for (const [body, want] of cases) assert.equal(errorOf(() => decodeRange(body)), want, body);
});

Deno.test("gateway decode: Go's type error messages", () => {
  const cases: [string, string][] = [
    ['{"key":123}', "json: cannot unmarshal number into Go value of type []uint8"],
    ['{"key":true}', "json: cannot unmarshal bool into Go value of type []uint8"],
    ['{"key":{}}', "json: cannot unmarshal object into Go value of type []uint8"],
    ['{"key":"Zm9v","limit":1.5}', "json: cannot unmarshal number 1.5 into Go value of type int64"],
    ['{"key":"Zm9v","limit":true}', "json: cannot unmarshal bool into Go value of type int64"],
    ['{"key":"Zm9v","limit":"true"}', "json: cannot unmarshal bool into Go value of type int64"],
    ['{"key":"Zm9v","limit":1e3}', "json: cannot unmarshal number 1e3 into Go value of type int64"],
    [
      '{"key":"Zm9v","limit":99999999999999999999}',
      "json: cannot unmarshal number 99999999999999999999 into Go value of type int64",
    ],
    [
      '{"key":"Zm9v","serializable":"true"}',
      "json: cannot unmarshal string into Go value of type bool",
    ],
    ['{"key":"Zm9v","serializable":1}', "json: cannot unmarshal number into Go value of type bool"],
    [
      '{"key":"Zm9v","sort_order":true}',
      "json: cannot unmarshal bool into Go value of type etcdserverpb.RangeRequest_SortOrder",
    ],
    [
      '{"key":"Zm9v","sort_order":"XX"}',
      'unknown value "XX" for enum etcdserverpb.RangeRequest_SortOrder',
    ],
    ['"str"', "json: cannot unmarshal string into Go value of type map[string]json.RawMessage"],
    ["[]", "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"],
    ['{"key":"!!!"}', "illegal base64 data at input byte 0"],
    ['{"key":"Zm9v-_"}', "illegal base64 data at input byte 4"],
  ];
  for (const [body, want] of cases) assert.equal(errorOf(() => decodeRange(body)), want, body);
  const txn = (body: string) =>
    decodeRequest("etcdserverpb.TxnRequest", jsonValues(body).next().value as never);
  assert.equal(
    errorOf(() => txn('{"compare":[{"target":"XX"}]}')),
    'unknown value "XX" for enum etcdserverpb.Compare_CompareTarget',
  );
  assert.equal(
    errorOf(() => txn('{"compare":{}}')),
    "json: cannot unmarshal object into Go value of type []json.RawMessage",
  );
  const remove = (body: string) =>
    decodeRequest("etcdserverpb.MemberRemoveRequest", jsonValues(body).next().value as never);
  assert.equal(
    errorOf(() => remove('{"ID":-1}')),
    "json: cannot unmarshal number -1 into Go value of type uint64",
  );
  assert.equal(remove('{"ID":"18446744073709551615"}').ID, 2n ** 64n - 1n);
});

Deno.test("gateway decode: what etcd's gateway accepts", () => {
  // Unknown fields ignored, null and empty bodies are empty requests, last duplicate key wins.
  assert.deepEqual(decodeRange('{"key":"Zm9v","x":{"y":[1]}}').key, te.encode("foo"));
  assert.equal(decodeRange("").key.length, 0);
  assert.equal(decodeRange("null").key.length, 0);
  assert.deepEqual(decodeRange('{"key":"Zm9v","key":"YQ=="}').key, te.encode("a"));
  // Trailing data after the first value is the next message, not an error.
  assert.deepEqual(decodeRange('{"key":"Zm9v"}}').key, te.encode("foo"));
  const r = decodeRange(
    '{"key":"Zm9v","rangeEnd":"AA==","limit":"12","sort_order":1,"sortTarget":"MOD","serializable":true}',
  );
  assert.deepEqual(r.rangeEnd, new Uint8Array([0]));
  assert.equal(r.limit, 12);
  assert.equal(r.sortOrder, 1);
  assert.equal(r.sortTarget, 3);
  assert.equal(r.serializable, true);
  // Enum numbers outside the enum pass (Go keeps the number).
  assert.equal(decodeRange('{"key":"Zm9v","sort_order":9}').sortOrder, 9);
  // Of two oneof members, the one declared last stays.
  const txn = decodeRequest(
    "etcdserverpb.TxnRequest",
    jsonValues('{"success":[{"requestPut":{"key":"YQ=="},"request_range":{"key":"YQ=="}}]}')
      .next().value as never,
  );
  assert.ok(txn.success[0].requestPut);
  assert.equal(txn.success[0].requestRange, undefined);
  const lease = decodeRequest(
    "etcdserverpb.LeaseGrantRequest",
    jsonValues('{"TTL":30,"ID":"7082933086432545298"}').next().value as never,
  );
  assert.equal(lease.TTL, 30);
  assert.equal(lease.ID, 7082933086432545298n);
});

Deno.test("gateway decode: a body holds a sequence of messages", () => {
  const values = [...jsonValues(' {"ID":1}\n{"ID":2} {"ID":3}  ')];
  assert.equal(values.length, 3);
  const it = jsonValues('{"a":1} xx');
  it.next();
  assert.throws(() => it.next(), /invalid character 'x' looking for beginning of value/);
});

Deno.test("goBase64: standard alphabet, padding required, line breaks skipped", () => {
  assert.deepEqual(goBase64("Zm9v\n"), te.encode("foo"));
  assert.deepEqual(goBase64("Zm8="), te.encode("fo"));
  assert.deepEqual(goBase64("Zg=="), te.encode("f"));
  assert.deepEqual(goBase64(""), new Uint8Array(0));
  for (const [s, at] of [["Zm9", 0], ["Zm", 0], ["Z", 0], ["Zm9v=", 4], ["Zm 9v", 2]] as const) {
    assert.throws(() => goBase64(s), new RegExp(`illegal base64 data at input byte ${at}$`), s);
  }
});

Deno.test("goBase64: plain input decodes as the same input with a line break does", () => {
  for (let n = 0; n < 40; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
    const plain = bytes.toBase64();
    assert.deepEqual(goBase64(plain), bytes);
    // A line break takes the character-by-character path.
    assert.deepEqual(goBase64(`${plain}\n`), bytes);
  }
  // Non-zero bits after the last byte are ignored on both paths, as Go's StdEncoding does.
  assert.deepEqual(goBase64("Zh=="), goBase64("Zh==\n"));
  assert.deepEqual(goBase64("Zh=="), te.encode("f"));
});
