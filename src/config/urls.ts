// etcd's URL-list rules (types.NewURLs) on top of a reproduction of Go's url.Parse, so that both
// the accepted set and the error texts match etcd, and URLs print as Go's URL.String() does.
import { isIPv4, isIPv6 } from "node:net";
import { goQuote } from "./gostr.ts";

/** A URL as Go's net/url parses it (only the parts etcd looks at). */
export interface GoURL {
  scheme: string;
  opaque: string;
  user: string; // raw userinfo before "@", "" when absent
  hasUser: boolean;
  host: string; // host[:port] as written
  path: string;
  rawQuery: string;
  forceQuery: boolean;
  fragment: string;
}

function hasCtl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function getScheme(raw: string): [string, string] | string {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return ["", raw];
      continue;
    }
    if (c === ":") {
      if (i === 0) return "missing protocol scheme";
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ["", raw];
  }
  return ["", raw];
}

// Characters Go leaves unescaped in a host (besides alphanumerics and -_.~).
const HOST_OK = "!$&'()*+,;=:[]<>\"";

function unescape(s: string, host: boolean): string | string[] {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "%") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        return ["invalid URL escape " + goQuote(s.slice(i, i + 3))];
      }
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else {
      if (host && c.charCodeAt(0) < 0x80 && !/[a-zA-Z0-9\-_.~]/.test(c) && !HOST_OK.includes(c)) {
        return ["invalid character " + goQuote(c) + " in host name"];
      }
      out += c;
    }
  }
  return out;
}

function validOptionalPort(p: string): boolean {
  return p === "" || (p[0] === ":" && /^[0-9]*$/.test(p.slice(1)));
}

function parseHost(host: string): string | string[] {
  if (host.startsWith("[")) {
    const i = host.lastIndexOf("]");
    if (i < 0) return ["missing ']' in host"];
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) return [`invalid port ${goQuote(colonPort)} after host`];
  } else {
    const i = host.lastIndexOf(":");
    if (i !== -1 && !validOptionalPort(host.slice(i))) {
      return [`invalid port ${goQuote(host.slice(i))} after host`];
    }
  }
  return unescape(host, true);
}

/** Go's url.Parse; the error string is exactly what Go's *url.Error prints. */
export function parseGoURL(rawURL: string): GoURL | { error: string } {
  const hash = rawURL.indexOf("#");
  const u = hash < 0 ? rawURL : rawURL.slice(0, hash);
  const frag = hash < 0 ? "" : rawURL.slice(hash + 1);
  const fail = (msg: string, whole = u) => ({ error: `parse ${goQuote(whole)}: ${msg}` });
  if (hasCtl(u)) return fail("net/url: invalid control character in URL");
  const url: GoURL = {
    scheme: "",
    opaque: "",
    user: "",
    hasUser: false,
    host: "",
    path: "",
    rawQuery: "",
    forceQuery: false,
    fragment: "",
  };
  if (u === "*") return { ...url, path: "*" };
  const sch = getScheme(u);
  if (typeof sch === "string") return fail(sch);
  url.scheme = sch[0].toLowerCase();
  let rest = sch[1];
  if (rest.endsWith("?") && rest.split("?").length === 2) {
    url.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) [rest, url.rawQuery] = [rest.slice(0, q), rest.slice(q + 1)];
  }
  if (!rest.startsWith("/")) {
    if (url.scheme !== "") {
      url.opaque = rest;
      return withFragment(url, frag, rawURL);
    }
    if (rest.split("/")[0].includes(":")) {
      return fail("first path segment in URL cannot contain colon");
    }
  }
  if ((url.scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const slash = authority.indexOf("/");
    if (slash >= 0) [authority, rest] = [authority.slice(0, slash), authority.slice(slash)];
    const at = authority.lastIndexOf("@");
    const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
    if (Array.isArray(host)) return fail(host[0]);
    url.host = host;
    if (at >= 0) {
      url.hasUser = true;
      url.user = authority.slice(0, at);
    }
  }
  const path = unescape(rest, false);
  if (Array.isArray(path)) return fail(path[0]);
  url.path = path;
  return withFragment(url, frag, rawURL);
}

function withFragment(url: GoURL, frag: string, rawURL: string): GoURL | { error: string } {
  if (frag === "") return url;
  const f = unescape(frag, false);
  if (Array.isArray(f)) return { error: `parse ${goQuote(rawURL)}: ${f[0]}` };
  return { ...url, fragment: f };
}

/** Go's URL.String() for the URL shapes etcd accepts. */
export function goURLString(u: GoURL): string {
  let out = u.scheme ? u.scheme + ":" : "";
  if (u.opaque) out += u.opaque;
  else {
    if (u.scheme || u.host || u.hasUser) {
      if (u.host || u.path || u.hasUser) out += "//";
      if (u.hasUser) out += u.user + "@";
      out += u.host.replaceAll("%", "%25");
    }
    out += u.path;
  }
  if (u.forceQuery || u.rawQuery) out += "?" + u.rawQuery;
  if (u.fragment) out += "#" + u.fragment;
  return out;
}

/** net.SplitHostPort; returns the host, or undefined when Go would fail. */
export function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  const i = hostport.lastIndexOf(":");
  if (i < 0) return undefined;
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0 || end + 1 !== i) return undefined;
    host = hostport.slice(1, end);
    [j, k] = [1, end + 1];
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) return undefined;
  }
  if (hostport.slice(j).includes("[") || hostport.slice(k).includes("]")) return undefined;
  return { host, port: hostport.slice(i + 1) };
}

/** net.ParseIP: dotted IPv4 without leading zeros, or IPv6 without a zone. */
export function isGoIP(host: string): boolean {
  return isIPv4(host) || (!host.includes("%") && isIPv6(host));
}

/** types.NewURLs: trims, validates and sorts; the error is etcd's text. */
export function parseURLList(parts: string[]): string[] | { error: string } {
  if (parts.length === 0) return { error: "no valid URLs given" };
  const out: string[] = [];
  for (const raw of parts) {
    const s = raw.trim();
    const u = parseGoURL(s);
    if ("error" in u) return u;
    if (!["http", "https", "unix", "unixs"].includes(u.scheme)) {
      return { error: `URL scheme must be http, https, unix, or unixs: ${s}` };
    }
    if (!splitHostPort(u.host)) {
      return { error: `URL address does not have the form "host:port": ${s}` };
    }
    if (u.path !== "") return { error: `URL must not contain a path: ${s}` };
    const str = goURLString(u);
    if (splitHostPort(u.host)!.host !== "" && !URL.canParse(str)) {
      // Go accepts a few host characters the WHATWG parser refuses; refuse them too. (An empty
      // host is left for the later "host:port" and binding checks, which report it.)
      return { error: `URL address does not have the form "host:port": ${s}` };
    }
    out.push(str);
  }
  return out.sort();
}

/** A comma-separated URL flag value -> sorted, de-duplicated Go URL strings. */
export function parseURLFlag(value: string): string[] | { error: string } {
  const list = parseURLList(value.split(","));
  if ("error" in list) return list;
  return [...new Set(list)];
}
