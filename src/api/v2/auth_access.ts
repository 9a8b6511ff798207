// etcd's v2 access checks (v2http/client_auth.go), consulted only while v2 auth is on: who sent
// a request — the user and password of its basic auth, else (no Authorization header) the user
// named by its verified client certificate's CN — and whether that user holds the root role (to
// manage auth and members) or a role granting the key (the guest role for anonymous requests).
import { peerCertificateOf } from "../http/mod.ts";
import type { V2AuthStore } from "./auth_store.ts";
import { GUEST_ROLE, hasKeyAccess, ROOT_ROLE, type User } from "./auth_types.ts";

const fromUtf8 = new TextDecoder();

/** Go's base64.StdEncoding: padded, line breaks ignored, nothing else. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's Request.BasicAuth: `Basic <base64 of user:password>`, the scheme in any case. */
function basicAuth(req: Request): { name: string; password: string } | undefined {
  const header = req.headers.get("authorization") ?? "";
  if (header.slice(0, 6).toLowerCase() !== "basic ") return undefined;
  const encoded = header.slice(6).replace(/[\r\n]/g, "");
  if (!STD_BASE64.test(encoded)) return undefined;
  const text = fromUtf8.decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { name: text.slice(0, colon), password: text.slice(colon + 1) };
}

async function userFromBasicAuth(store: V2AuthStore, req: Request): Promise<User | undefined> {
  const creds = basicAuth(req);
  if (!creds) return undefined;
  const user = await store.getUser(creds.name).catch(() => undefined);
  if (!user || !(await store.checkPassword(user, creds.password))) return undefined;
  return user;
}

async function userFromClientCertificate(
  store: V2AuthStore,
  req: Request,
): Promise<User | undefined> {
  const cn = peerCertificateOf(req)?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (name === undefined) return undefined;
  return await store.getUser(name).catch(() => undefined);
}

/** Basic auth when the request has an Authorization header, else its certificate's CN. */
function requestUser(store: V2AuthStore, req: Request): Promise<User | undefined> {
  return (req.headers.get("authorization") ?? "") === ""
    ? userFromClientCertificate(store, req)
    : userFromBasicAuth(store, req);
}

/** Whether the request may manage auth: auth is off, or its user has the root role. */
export async function hasRootAccess(store: V2AuthStore, req: Request): Promise<boolean> {
  if (!(await store.authEnabled())) return true;
  const user = await requestUser(store, req);
  return user?.roles?.includes(ROOT_ROLE) ?? false;
}

/** Reads are open to all; other methods need root access. */
export function hasWriteRootAccess(store: V2AuthStore, req: Request): Promise<boolean> {
  if (req.method === "GET" || req.method === "HEAD") return Promise.resolve(true);
  return hasRootAccess(store, req);
}

/** Whether the request may read (GET, HEAD) or write `key`; `recursive` needs a `*` grant. */
export async function hasKeyPrefixAccess(
  store: V2AuthStore,
  req: Request,
  key: string,
  recursive: boolean,
): Promise<boolean> {
  if (!(await store.authEnabled())) return true;
  const write = req.method !== "GET" && req.method !== "HEAD";
  const user = await requestUser(store, req);
  if (!user) {
    // Anonymous requests get the guest role, checked without recursion as etcd does.
    if ((req.headers.get("authorization") ?? "") !== "") return false;
    const guest = await store.getRole(GUEST_ROLE).catch(() => undefined);
    return guest !== undefined && hasKeyAccess(guest, key, write, false);
  }
  for (const name of user.roles ?? []) {
    const role = await store.getRole(name).catch(() => undefined);
    if (role && hasKeyAccess(role, key, write, recursive)) return true;
  }
  return false;
}
