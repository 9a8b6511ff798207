import assert from "node:assert/strict";
import { generatedSource, lowerCamel } from "../../../scripts/gen_proto.ts";
import { parseProto } from "../../../scripts/proto_parse.ts";

Deno.test("gen_proto: regenerating from proto/ yields the committed generated.ts", async () => {
  const committed = await Deno.readTextFile(
    new URL("../../../src/pb/generated.ts", import.meta.url),
  );
  assert.equal(await generatedSource(), committed);
});

Deno.test("gen_proto: property names are protoc's lowerCamel JSON names", () => {
  assert.equal(lowerCamel("range_end"), "rangeEnd");
  assert.equal(lowerCamel("prev_kv"), "prevKv");
  assert.equal(lowerCamel("remaining_TTL"), "remainingTTL");
  assert.equal(lowerCamel("ID"), "ID");
  assert.equal(lowerCamel("dbSizeInUse"), "dbSizeInUse");
  assert.equal(lowerCamel("cluster_id"), "clusterId");
});

Deno.test("proto parser: nested types, oneofs, streams, options and comments", () => {
  const f = parseProto(
    `syntax = "proto3"; // c
     package p.q;
     import "x/y.proto";
     option go_package = "z";
     /* block */
     message A {
       enum E { X = 0; Y = 1 [deprecated = true]; }
       message B { repeated int64 v = 1; }
       oneof u { string s = 2; B b = 3; }
       E e = 4 [json_name = "ee"];
       reserved 9;
     }
     service S {
       rpc M(stream A) returns (stream A.B) { option (google.api.http) = { post: "/m" body: "*" }; }
       rpc N(A) returns (A);
     }`,
    "t.proto",
  );
  assert.equal(f.pkg, "p.q");
  assert.deepEqual(f.imports, ["x/y.proto"]);
  assert.deepEqual(f.messages.map((m) => m.fullName), ["p.q.A", "p.q.A.B"]);
  assert.deepEqual(f.enums[0], { fullName: "p.q.A.E", values: [["X", 0], ["Y", 1]] });
  assert.deepEqual(f.messages[0].fields, [
    { name: "s", no: 2, type: "string", repeated: false, oneof: "u" },
    { name: "b", no: 3, type: "B", repeated: false, oneof: "u" },
    { name: "e", no: 4, type: "E", repeated: false },
  ]);
  assert.deepEqual(f.services[0].methods, [
    {
      name: "M",
      requestType: "A",
      responseType: "A.B",
      clientStreaming: true,
      serverStreaming: true,
    },
    {
      name: "N",
      requestType: "A",
      responseType: "A",
      clientStreaming: false,
      serverStreaming: false,
    },
  ]);
  assert.throws(() => parseProto('syntax = "proto2";', "old.proto"), /only proto3/);
  assert.throws(() => parseProto("message M { map<string, string> m = 1; }", "m.proto"), /map/);
});
