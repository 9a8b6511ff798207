// URL objects whose string form is Go's URL.String() (no trailing "/"), as etcd prints URLs.

export class EtcdURL extends URL {
  /** The URL exactly as etcd formats it, e.g. "http://127.0.0.1:2380". */
  readonly etcd: string;
  constructor(goString: string) {
    super(goString);
    this.etcd = goString;
  }
  override toString(): string {
    return this.etcd;
  }
  override toJSON(): string {
    return this.etcd;
  }
}

/** Go's form of a Config URL (works for plain URL objects too, minus an explicit default port). */
export function formatURL(u: URL): string {
  if (u instanceof EtcdURL) return u.etcd;
  const path = u.pathname === "/" ? "" : u.pathname;
  const user = u.username ? u.username + (u.password ? ":" + u.password : "") + "@" : "";
  return `${u.protocol}//${user}${u.host}${path}${u.search}${u.hash}`;
}

export function toEtcdURLs(list: string[]): URL[] {
  return list.map((s) => new EtcdURL(s));
}
