// /v2/keys: etcd's keys handler. Reads and watches are served from the local store; writes and
// quorum reads go through Raft (deps.apply). Answers carry etcd's headers, status codes and
// JSON (a newline after every body).
import {
  ErrorCode,
  eventJSON,
  isCreated,
  V2Error,
  type V2Event,
  type V2Request,
  type V2Result,
} from "../../v2store/mod.ts";
import { hasKeyPrefixAccess } from "./auth_access.ts";
import type { V2AuthStore } from "./auth_store.ts";
import { secondsSince, v2HttpMetrics } from "../../metrics/mod.ts";
import type { V2Deps } from "./deps.ts";
import { methodNotAllowed } from "./responses.ts";
import { Form, type KeyRequest, parseKeyRequest } from "./form.ts";

const KEYS_PREFIX = "/v2/keys";
const ALLOWED = ["HEAD", "GET", "PUT", "POST", "DELETE"];
const utf8 = new TextEncoder();

export async function handleKeys(
  deps: V2Deps,
  auth: V2AuthStore,
  req: Request,
): Promise<Response> {
  if (!ALLOWED.includes(req.method)) return methodNotAllowed(ALLOWED.join(","));
  const cid = deps.clusterId();
  const url = new URL(req.url);
  let kr: KeyRequest;
  try {
    const keyPath = decodeURIComponent(url.pathname.slice(KEYS_PREFIX.length));
    kr = parseKeyRequest(req.method, keyPath, await Form.read(req, url));
  } catch (err) {
    if (err instanceof V2Error) return errorResponse(err, cid);
    return errorResponse(new V2Error(ErrorCode.InvalidForm, String(err)), cid);
  }
  if (!(await hasKeyPrefixAccess(auth, req, kr.path, kr.recursive))) {
    return errorResponse(new V2Error(ErrorCode.Unauthorized, "Insufficient credentials"), cid);
  }
  // etcd's v2http counters name a quorum read QGET.
  const method = kr.quorum && kr.method === "GET" ? "QGET" : kr.method;
  const start = performance.now();
  try {
    if (kr.wait) return await watchResponse(deps, kr, cid);
    v2HttpMetrics.received.labels({ method }).inc();
    let event: V2Event;
    if ((req.method === "GET" || req.method === "HEAD") && method !== "QGET") {
      event = await deps.store.get(kr.path, kr.recursive, kr.sorted);
    } else {
      event = unwrap(await deps.apply(toV2Request(deps, kr)));
    }
    const res = eventResponse(deps, event, kr.noValueOnSuccess, cid, req.method === "HEAD");
    v2HttpMetrics.successSeconds.labels({ method }).observe(secondsSince(start));
    return res;
  } catch (err) {
    const failure = err instanceof V2Error
      ? err
      : new V2Error(ErrorCode.RaftInternal, err instanceof Error ? err.message : String(err));
    v2HttpMetrics.failed.labels({ method, code: String(failure.status) }).inc();
    return errorResponse(failure, cid);
  }
}

function toV2Request(deps: V2Deps, kr: KeyRequest): V2Request {
  const method = kr.method === "GET" ? "QGET" : kr.method as V2Request["method"];
  const r: V2Request = { method, path: kr.path };
  if (kr.value !== "") r.value = kr.value;
  if (kr.dir) r.dir = true;
  if (kr.prevValue !== "") r.prevValue = kr.prevValue;
  if (kr.prevIndex !== 0) r.prevIndex = kr.prevIndex;
  if (kr.prevExist !== undefined) r.prevExist = kr.prevExist;
  if (kr.recursive) r.recursive = true;
  if (kr.sorted) r.sorted = true;
  if (kr.refresh) r.refresh = true;
  // The proposer fixes the expiry time, so every member applies the same one.
  if (kr.ttl !== undefined) r.expiration = deps.now() + kr.ttl * 1000;
  return r;
}

/** The event of an applied v2 request, or its error thrown. */
export function unwrap(res: V2Result): V2Event {
  if (res.error) throw V2Error.fromJSON(res.error);
  if (!res.event) throw new V2Error(ErrorCode.RaftInternal, "received response with no Event");
  return res.event;
}

export function errorResponse(err: V2Error, cid: string): Response {
  return new Response(JSON.stringify(err) + "\n", {
    status: err.status,
    headers: {
      "content-type": "application/json",
      "x-etcd-cluster-id": cid,
      "x-etcd-index": String(err.index),
    },
  });
}

function raftHeaders(deps: V2Deps, cid: string, etcdIndex: number): Record<string, string> {
  const { index, term } = deps.raft();
  return {
    "content-type": "application/json",
    "x-etcd-cluster-id": cid,
    "x-etcd-index": String(etcdIndex),
    "x-raft-index": String(index),
    "x-raft-term": String(term),
  };
}

function eventResponse(
  deps: V2Deps,
  e: V2Event,
  noValueOnSuccess: boolean,
  cid: string,
  head: boolean,
): Response {
  const body = eventJSON(e);
  if (noValueOnSuccess && ["set", "compareAndSwap", "create", "update"].includes(e.action)) {
    delete body.node;
    delete body.prevNode;
  }
  const text = JSON.stringify(body) + "\n";
  const headers = raftHeaders(deps, cid, e.etcdIndex);
  if (head) headers["content-length"] = String(utf8.encode(text).length);
  return new Response(head ? null : text, { status: isCreated(e) ? 201 : 200, headers });
}

/** A long poll: headers at once, then one event (or every event for stream=true). */
async function watchResponse(deps: V2Deps, kr: KeyRequest, cid: string): Promise<Response> {
  const w = await deps.store.watch(kr.path, kr.recursive, kr.stream, kr.waitIndex);
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const e = await w.next();
      if (!e) {
        ctrl.close();
        return;
      }
      ctrl.enqueue(utf8.encode(JSON.stringify(eventJSON(e)) + "\n"));
      if (!kr.stream) {
        w.remove();
        ctrl.close();
      }
    },
    cancel() {
      w.remove();
    },
  });
  return new Response(body, { status: 200, headers: raftHeaders(deps, cid, w.startIndex) });
}
