// The answers etcd's v2 handlers share: JSON bodies (json.Encoder's ends with a newline) with
// the cluster ID header once the handler has set it, and httptypes.HTTPError's
// `{"message":...}` without one.
export { methodNotAllowed } from "../http/mod.ts";

/** A JSON answer; `cid` "" leaves out X-Etcd-Cluster-Id (an answer before the handler set it). */
export function json(status: number, body: unknown, cid: string, newline = true): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (cid !== "") headers["x-etcd-cluster-id"] = cid;
  return new Response(JSON.stringify(body) + (newline ? "\n" : ""), { status, headers });
}

/** etcd's httptypes.HTTPError. */
export function httpError(status: number, message: string, cid: string): Response {
  return json(status, { message }, cid, false);
}

/** 200 with nothing written but the headers. */
export function emptyOk(cid: string): Response {
  return new Response(null, {
    status: 200,
    headers: { "content-type": "application/json", "x-etcd-cluster-id": cid },
  });
}

/** What an auth check that failed answers (before any cluster ID is set). */
export const insufficientCredentials = () => httpError(401, "Insufficient credentials", "");
