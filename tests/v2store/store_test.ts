// The v2 store against answers recorded from etcd 3.4.23 (--enable-v2, curl). etcd's index
// starts at 3 on a fresh member (its own membership writes under /0); three writes to a hidden
// key put ours there too, so the recorded bodies are compared verbatim.
import assert from "node:assert/strict";
import {
  applyV2Request,
  eventJSON,
  V2Error,
  type V2Request,
  V2Store,
} from "../../src/v2store/mod.ts";

const T0 = Date.UTC(2026, 10, 27, 17, 2, 51, 189);

function freshStore(): { store: V2Store; clock: { now: number } } {
  const clock = { now: T0 };
  const store = new V2Store(() => clock.now);
  for (let i = 0; i < 3; i++) store.set("/_internal", false, String(i));
  return { store, clock };
}

function write(store: V2Store, r: V2Request): string {
  const res = applyV2Request(store, r);
  if (res.error) return JSON.stringify(res.error);
  return JSON.stringify(eventJSON(res.event!));
}

function read(store: V2Store, path: string, recursive = false, sorted = false): string {
  try {
    return JSON.stringify(eventJSON(store.get(path, recursive, sorted)));
  } catch (err) {
    if (err instanceof V2Error) return JSON.stringify(err);
    throw err;
  }
}

type Step = [string, (s: V2Store) => string, string];

const put = (path: string, extra: Partial<V2Request> = {}) => (s: V2Store) =>
  write(s, { method: "PUT", path, ...extra });
const del = (path: string, extra: Partial<V2Request> = {}) => (s: V2Store) =>
  write(s, { method: "DELETE", path, ...extra });
const post = (path: string, extra: Partial<V2Request> = {}) => (s: V2Store) =>
  write(s, { method: "POST", path, ...extra });
const get = (path: string, recursive = false, sorted = false) => (s: V2Store) =>
  read(s, path, recursive, sorted);

const steps: Step[] = [
  [
    "set new",
    put("/foo", { value: "bar" }),
    '{"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":4}}',
  ],
  [
    "set again",
    put("/foo", { value: "baz" }),
    '{"action":"set","node":{"key":"/foo","value":"baz","modifiedIndex":5,"createdIndex":5},"prevNode":{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":4}}',
  ],
  [
    "get",
    get("/foo"),
    '{"action":"get","node":{"key":"/foo","value":"baz","modifiedIndex":5,"createdIndex":5}}',
  ],
  [
    "missing",
    get("/nokey"),
    '{"errorCode":100,"message":"Key not found","cause":"/nokey","index":5}',
  ],
  [
    "below a file",
    get("/foo/bar"),
    '{"errorCode":104,"message":"Not a directory","cause":"/foo","index":5}',
  ],
  [
    "set below a file",
    put("/foo/bar", { value: "x" }),
    '{"errorCode":104,"message":"Not a directory","cause":"/foo","index":5}',
  ],
  [
    "set with ttl",
    put("/dir/a", { value: "1", expiration: T0 + 100_000 }),
    '{"action":"set","node":{"key":"/dir/a","value":"1","expiration":"2026-11-27T17:04:31.189Z","ttl":100,"modifiedIndex":6,"createdIndex":6}}',
  ],
  [
    "setdir on a dir",
    put("/dir", { dir: true }),
    '{"errorCode":102,"message":"Not a file","cause":"/dir","index":6}',
  ],
  [
    "set value on a dir",
    put("/dir", { value: "x" }),
    '{"errorCode":102,"message":"Not a file","cause":"/dir","index":6}',
  ],
  [
    "updatedir ttl",
    put("/dir", { dir: true, prevExist: true, expiration: T0 + 50_000 }),
    '{"action":"update","node":{"key":"/dir","dir":true,"expiration":"2026-11-27T17:03:41.189Z","ttl":50,"modifiedIndex":7,"createdIndex":6},"prevNode":{"key":"/dir","dir":true,"modifiedIndex":6,"createdIndex":6}}',
  ],
  [
    "updatedir no ttl: the dir kept its modifiedIndex",
    put("/dir", { dir: true, prevExist: true }),
    '{"action":"update","node":{"key":"/dir","dir":true,"modifiedIndex":8,"createdIndex":6},"prevNode":{"key":"/dir","dir":true,"expiration":"2026-11-27T17:03:41.189Z","ttl":50,"modifiedIndex":6,"createdIndex":6}}',
  ],
  [
    "update dir with value",
    put("/dir", { dir: true, prevExist: true, value: "zz" }),
    '{"errorCode":102,"message":"Not a file","cause":"/dir","index":8}',
  ],
  [
    "setdir ignores value",
    put("/newdir", { dir: true, value: "zz" }),
    '{"action":"set","node":{"key":"/newdir","dir":true,"modifiedIndex":9,"createdIndex":9}}',
  ],
  [
    "mkdir",
    put("/d2", { dir: true, prevExist: false }),
    '{"action":"create","node":{"key":"/d2","dir":true,"modifiedIndex":10,"createdIndex":10}}',
  ],
  [
    "mkdir twice",
    put("/d2", { dir: true, prevExist: false }),
    '{"errorCode":105,"message":"Key already exists","cause":"/d2","index":10}',
  ],
  [
    "get dir",
    get("/dir"),
    '{"action":"get","node":{"key":"/dir","dir":true,"nodes":[{"key":"/dir/a","value":"1","expiration":"2026-11-27T17:04:31.189Z","ttl":100,"modifiedIndex":6,"createdIndex":6}],"modifiedIndex":6,"createdIndex":6}}',
  ],
  [
    "ls -r --sort /",
    get("/", true, true),
    '{"action":"get","node":{"dir":true,"nodes":[{"key":"/d2","dir":true,"modifiedIndex":10,"createdIndex":10},{"key":"/dir","dir":true,"nodes":[{"key":"/dir/a","value":"1","expiration":"2026-11-27T17:04:31.189Z","ttl":100,"modifiedIndex":6,"createdIndex":6}],"modifiedIndex":6,"createdIndex":6},{"key":"/foo","value":"baz","modifiedIndex":5,"createdIndex":5},{"key":"/newdir","dir":true,"modifiedIndex":9,"createdIndex":9}]}}',
  ],
  [
    "ls / (insertion order)",
    get("/"),
    '{"action":"get","node":{"dir":true,"nodes":[{"key":"/foo","value":"baz","modifiedIndex":5,"createdIndex":5},{"key":"/dir","dir":true,"modifiedIndex":6,"createdIndex":6},{"key":"/newdir","dir":true,"modifiedIndex":9,"createdIndex":9},{"key":"/d2","dir":true,"modifiedIndex":10,"createdIndex":10}]}}',
  ],
  [
    "mk existing",
    put("/foo", { prevExist: false, value: "q" }),
    '{"errorCode":105,"message":"Key already exists","cause":"/foo","index":10}',
  ],
  [
    "update",
    put("/foo", { prevExist: true, value: "q" }),
    '{"action":"update","node":{"key":"/foo","value":"q","modifiedIndex":11,"createdIndex":5},"prevNode":{"key":"/foo","value":"baz","modifiedIndex":5,"createdIndex":5}}',
  ],
  [
    "update missing",
    put("/nope", { prevExist: true, value: "q" }),
    '{"errorCode":100,"message":"Key not found","cause":"/nope","index":11}',
  ],
  [
    "cas value",
    put("/foo", { prevValue: "nope", value: "y" }),
    '{"errorCode":101,"message":"Compare failed","cause":"[nope != q]","index":11}',
  ],
  [
    "cas index",
    put("/foo", { prevIndex: 1, value: "y" }),
    '{"errorCode":101,"message":"Compare failed","cause":"[1 != 11]","index":11}',
  ],
  [
    "cas both",
    put("/foo", { prevIndex: 1, prevValue: "nope", value: "y" }),
    '{"errorCode":101,"message":"Compare failed","cause":"[nope != q] [1 != 11]","index":11}',
  ],
  [
    "cas ok",
    put("/foo", { prevValue: "q", value: "y" }),
    '{"action":"compareAndSwap","node":{"key":"/foo","value":"y","modifiedIndex":12,"createdIndex":5},"prevNode":{"key":"/foo","value":"q","modifiedIndex":11,"createdIndex":5}}',
  ],
  [
    "in-order 1",
    post("/queue", { value: "job1" }),
    '{"action":"create","node":{"key":"/queue/00000000000000000013","value":"job1","modifiedIndex":13,"createdIndex":13}}',
  ],
  [
    "in-order 2",
    post("/queue", { value: "job2" }),
    '{"action":"create","node":{"key":"/queue/00000000000000000014","value":"job2","modifiedIndex":14,"createdIndex":14}}',
  ],
  [
    "queue sorted",
    get("/queue", false, true),
    '{"action":"get","node":{"key":"/queue","dir":true,"nodes":[{"key":"/queue/00000000000000000013","value":"job1","modifiedIndex":13,"createdIndex":13},{"key":"/queue/00000000000000000014","value":"job2","modifiedIndex":14,"createdIndex":14}],"modifiedIndex":13,"createdIndex":13}}',
  ],
  ["rm dir", del("/dir"), '{"errorCode":102,"message":"Not a file","cause":"/dir","index":14}'],
  [
    "rmdir non-empty",
    del("/dir", { dir: true }),
    '{"errorCode":108,"message":"Directory not empty","cause":"/dir","index":14}',
  ],
  [
    "rm -r",
    del("/dir", { recursive: true }),
    '{"action":"delete","node":{"key":"/dir","dir":true,"modifiedIndex":15,"createdIndex":6},"prevNode":{"key":"/dir","dir":true,"modifiedIndex":6,"createdIndex":6}}',
  ],
  [
    "rmdir",
    del("/d2", { dir: true }),
    '{"action":"delete","node":{"key":"/d2","dir":true,"modifiedIndex":16,"createdIndex":10},"prevNode":{"key":"/d2","dir":true,"modifiedIndex":10,"createdIndex":10}}',
  ],
  [
    "cad fails",
    del("/foo", { prevValue: "zz" }),
    '{"errorCode":101,"message":"Compare failed","cause":"[zz != y]","index":16}',
  ],
  [
    "cad",
    del("/foo", { prevValue: "y" }),
    '{"action":"compareAndDelete","node":{"key":"/foo","modifiedIndex":17,"createdIndex":5},"prevNode":{"key":"/foo","value":"y","modifiedIndex":12,"createdIndex":5}}',
  ],
  [
    "set root",
    put("/", { value: "1" }),
    '{"errorCode":107,"message":"Root is read only","cause":"/","index":17}',
  ],
  [
    "rm -r root",
    del("/", { recursive: true }),
    '{"errorCode":107,"message":"Root is read only","cause":"/","index":17}',
  ],
  [
    "hidden key",
    put("/_hidden", { value: "h" }),
    '{"action":"set","node":{"key":"/_hidden","value":"h","modifiedIndex":18,"createdIndex":18}}',
  ],
  [
    "hidden keys are not listed",
    get("/"),
    '{"action":"get","node":{"dir":true,"nodes":[{"key":"/newdir","dir":true,"modifiedIndex":9,"createdIndex":9},{"key":"/queue","dir":true,"modifiedIndex":13,"createdIndex":13}]}}',
  ],
  [
    "hidden key read directly",
    get("/_hidden"),
    '{"action":"get","node":{"key":"/_hidden","value":"h","modifiedIndex":18,"createdIndex":18}}',
  ],
  [
    "missing parent: cause is the first missing component",
    get("/a/b/c"),
    '{"errorCode":100,"message":"Key not found","cause":"/a","index":18}',
  ],
  [
    "empty value",
    put("/e1", { value: "" }),
    '{"action":"set","node":{"key":"/e1","value":"","modifiedIndex":19,"createdIndex":19}}',
  ],
  [
    "POST below a file",
    post("/e1", { value: "1" }),
    '{"errorCode":104,"message":"Not a directory","cause":"/e1","index":19}',
  ],
  [
    "POST dir",
    post("/pdir", { dir: true }),
    '{"action":"create","node":{"key":"/pdir/00000000000000000020","dir":true,"modifiedIndex":20,"createdIndex":20}}',
  ],
  [
    "prevExist=true with prevValue is a CAS",
    put("/e1", { prevExist: true, prevValue: "x", value: "2" }),
    '{"errorCode":101,"message":"Compare failed","cause":"[x != ]","index":20}',
  ],
  [
    "prevExist=false wins over prevValue",
    put("/e1", { prevExist: false, prevValue: "x", value: "2" }),
    '{"errorCode":105,"message":"Key already exists","cause":"/e1","index":20}',
  ],
];

Deno.test("v2 store: etcd 3.4.23's answers, step by step", () => {
  const { store } = freshStore();
  for (const [name, run, want] of steps) assert.equal(run(store), want, name);
});
