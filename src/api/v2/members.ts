// /v2/members and /v2/machines as etcd 3.4 serves them (what ETCDCTL_API=2 etcdctl syncs from).
import { hasWriteRootAccess } from "./auth_access.ts";
import type { V2AuthStore } from "./auth_store.ts";
import { MemberChangeError, type V2Deps, type V2Member } from "./deps.ts";
import { httpError, insufficientCredentials, json, methodNotAllowed } from "./responses.ts";

const MEMBERS_PREFIX = "/v2/members";

function memberJSON(m: V2Member): V2Member {
  return { id: m.id, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs };
}

export async function handleMembers(
  deps: V2Deps,
  auth: V2AuthStore,
  req: Request,
): Promise<Response> {
  const allow = ["GET", "POST", "DELETE", "PUT"];
  if (!allow.includes(req.method)) return methodNotAllowed(allow.join(","));
  if (!(await hasWriteRootAccess(auth, req))) return insufficientCredentials();
  const cid = deps.clusterId();
  const rest = new URL(req.url).pathname.slice(MEMBERS_PREFIX.length).replace(/^\//, "");
  try {
    switch (req.method) {
      case "GET":
        if (rest === "") return json(200, { members: deps.members().map(memberJSON) }, cid, true);
        if (rest === "leader") {
          const l = deps.leader();
          if (!l) return httpError(503, "During election", cid);
          return json(200, memberJSON(l), cid, true);
        }
        return httpError(404, "Not found", cid);
      case "POST": {
        const body = await readPeerURLs(req, cid);
        if (body instanceof Response) return body;
        return json(201, memberJSON(await deps.addMember(body)), cid, true);
      }
      case "DELETE":
      case "PUT": {
        if (rest === "") return methodNotAllowed("GET,POST,DELETE,PUT");
        const id = /^[0-9a-fA-F]{1,16}$/.test(rest) ? BigInt("0x" + rest) : undefined;
        if (id === undefined) return httpError(404, `No such member: ${rest}`, cid);
        if (req.method === "DELETE") {
          await deps.removeMember(id);
        } else {
          const body = await readPeerURLs(req, cid);
          if (body instanceof Response) return body;
          await deps.updateMember(id, body);
        }
        return new Response(null, { status: 204, headers: { "x-etcd-cluster-id": cid } });
      }
    }
  } catch (err) {
    if (err instanceof MemberChangeError) {
      const id = err.id || rest;
      switch (err.reason) {
        case "idExists":
          return httpError(409, "membership: ID exists", cid);
        case "peerURLExists":
          return httpError(409, "membership: peerURL exists", cid);
        case "notFound":
          return httpError(404, `No such member: ${id}`, cid);
        case "removed":
          return httpError(410, `Member permanently removed: ${id}`, cid);
      }
    }
    return httpError(500, "Internal Server Error", cid);
  }
  return httpError(404, "Not found", cid);
}

/** The JSON body `{"peerURLs":[...]}` of a member add or update, or the error answer. */
async function readPeerURLs(req: Request, cid: string): Promise<string[] | Response> {
  let ctype = req.headers.get("content-type") ?? "";
  if (ctype.includes(";")) ctype = ctype.slice(0, ctype.indexOf(";")).trim().toLowerCase();
  if (ctype !== "application/json") {
    return httpError(415, `Bad Content-Type ${ctype}, accept application/json`, cid);
  }
  try {
    const body = JSON.parse(await req.text());
    const urls = body?.peerURLs;
    if (!Array.isArray(urls) || urls.some((u) => typeof u !== "string")) {
      return httpError(400, "json: cannot unmarshal peerURLs", cid);
    }
    for (const u of urls) new URL(u);
    return urls;
  } catch (err) {
    return httpError(400, (err as Error).message, cid);
  }
}

/** /v2/machines: the client URLs of every member, joined by ", ". */
export function handleMachines(deps: V2Deps, req: Request): Response {
  if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed("GET,HEAD");
  const urls = deps.members().flatMap((m) => m.clientURLs);
  return new Response(urls.join(", "), {
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
