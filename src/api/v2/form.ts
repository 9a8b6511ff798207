// Parsing a v2 keys request as etcd's parseKeyRequest does: parameters from the query string
// and, for PUT/POST/PATCH with a form content type, the body (body values first), Go's
// strconv.ParseBool/ParseUint, and etcd's error codes and causes for bad fields.
import { ErrorCode, V2Error } from "../../v2store/mod.ts";

export interface KeyRequest {
  method: string;
  path: string;
  value: string;
  dir: boolean;
  prevValue: string;
  prevIndex: number;
  prevExist?: boolean;
  refresh?: boolean;
  wait: boolean;
  waitIndex: number;
  recursive: boolean;
  sorted: boolean;
  quorum: boolean;
  stream: boolean;
  noValueOnSuccess: boolean;
  /** Seconds, when given and non-empty. */
  ttl?: number;
}

/** Form values, body first then query, as Go's Request.Form. */
export class Form {
  constructor(readonly values: Map<string, string[]>) {}

  static async read(req: Request, url: URL): Promise<Form> {
    const values = new Map<string, string[]>();
    const add = (params: URLSearchParams) => {
      for (const [k, v] of params) values.set(k, [...(values.get(k) ?? []), v]);
    };
    const ctype = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (
      ["PUT", "POST", "PATCH"].includes(req.method) &&
      ctype === "application/x-www-form-urlencoded"
    ) {
      add(new URLSearchParams(await req.text()));
    }
    add(url.searchParams);
    return new Form(values);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }
  value(key: string): string {
    return this.values.get(key)?.[0] ?? "";
  }
}

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/** Go's strconv.ParseUint(s, 10, 64), as a JS number. */
export function parseGoUint(s: string): number | undefined {
  return /^[0-9]+$/.test(s) && BigInt(s) < 2n ** 64n ? Number(s) : undefined;
}

function bool(form: Form, key: string, cause = `invalid value for "${key}"`): boolean {
  if (!form.has(key)) return false;
  const b = parseGoBool(form.value(key));
  if (b === undefined) throw new V2Error(ErrorCode.InvalidField, cause);
  return b;
}

function uint(form: Form, key: string, code: number): number {
  if (!form.has(key)) return 0;
  const n = parseGoUint(form.value(key));
  if (n === undefined) throw new V2Error(code, `invalid value for "${key}"`);
  return n;
}

export function parseKeyRequest(method: string, keyPath: string, form: Form): KeyRequest {
  const prevIndex = uint(form, "prevIndex", ErrorCode.IndexNaN);
  const waitIndex = uint(form, "waitIndex", ErrorCode.IndexNaN);
  const recursive = bool(form, "recursive");
  const sorted = bool(form, "sorted");
  const wait = bool(form, "wait");
  const dir = bool(form, "dir");
  const quorum = bool(form, "quorum");
  const stream = bool(form, "stream");
  if (wait && method !== "GET") {
    throw new V2Error(ErrorCode.InvalidField, `"wait" can only be used with GET requests`);
  }
  const prevValue = form.value("prevValue");
  if (form.has("prevValue") && prevValue === "") {
    throw new V2Error(ErrorCode.PrevValueRequired, `"prevValue" cannot be empty`);
  }
  const noValueOnSuccess = bool(form, "noValueOnSuccess");
  let ttl: number | undefined;
  if (form.value("ttl") !== "") {
    ttl = parseGoUint(form.value("ttl"));
    if (ttl === undefined) throw new V2Error(ErrorCode.TtlNaN, `invalid value for "ttl"`);
  }
  const prevExist = form.has("prevExist")
    ? bool(form, "prevExist", "invalid value for prevExist")
    : undefined;
  let refresh: boolean | undefined;
  if (form.has("refresh")) {
    refresh = bool(form, "refresh", "invalid value for refresh");
    if (refresh) {
      if (form.has("value") && form.value("value") !== "") {
        throw new V2Error(ErrorCode.RefreshValue, "A value was provided on a refresh");
      }
      if (ttl === undefined) {
        throw new V2Error(ErrorCode.RefreshTtlRequired, "No TTL value set");
      }
    }
  }
  return {
    method,
    path: keyPath,
    value: form.value("value"),
    dir,
    prevValue,
    prevIndex,
    prevExist,
    refresh,
    wait,
    waitIndex,
    recursive,
    sorted,
    quorum,
    stream,
    noValueOnSuccess,
    ttl,
  };
}
