// --config-file: etcd reads YAML, converts it to JSON and decodes that into Go structs, so the
// keys are flag names, types are strict, and the errors are Go's. Flags and ETCD_* are ignored.
import { FLAG_BY_NAME, type FlagSpec } from "./flags.ts";
import { type FlagState, type FlagValue, newFlagState } from "./goflag.ts";
import { parseGoDuration } from "./duration.ts";
import { DEFAULT_INITIAL_CLUSTER } from "./build.ts";
import { parseURLFlag } from "./urls.ts";

export type FileResult =
  | { ok: true; state: FlagState; explicit: Set<string> }
  /** `raw`: printed to stderr as is (etcd's fmt.Fprintf + exit 1), else a verification error. */
  | { ok: false; error: string; raw: boolean };

const TLS_KEYS: Record<string, [client: string, peer: string]> = {
  "cert-file": ["cert-file", "peer-cert-file"],
  "key-file": ["key-file", "peer-key-file"],
  "client-cert-auth": ["client-cert-auth", "peer-client-cert-auth"],
  "trusted-ca-file": ["trusted-ca-file", "peer-trusted-ca-file"],
  "auto-tls": ["auto-tls", "peer-auto-tls"],
  "crl-file": ["client-crl-file", "peer-crl-file"],
  "allowed-cn": ["client-cert-allowed-cn", "peer-cert-allowed-cn"],
  "allowed-hostname": ["client-cert-allowed-hostname", "peer-cert-allowed-hostname"],
  "client-cert-file": ["client-cert-file", "peer-client-cert-file"],
  "client-key-file": ["client-key-file", "peer-client-key-file"],
};
// The client allowed-CN has no flag; it can only come from the file (3.5 key).
const STRING_SPEC: FlagSpec = { name: "", kind: "string", default: "", help: "", group: "" };
const NESTED_ONLY = new Set(Object.values(TLS_KEYS).flat());
const PROXY_KEYS = new Set([
  "proxy",
  "proxy-failure-wait",
  "proxy-refresh-interval",
  "proxy-dial-timeout",
  "proxy-write-timeout",
  "proxy-read-timeout",
  "discovery-fallback",
]);
// Keys that are YAML lists in the file although their flags take comma-separated strings.
const LIST_KEYS = new Set(["cipher-suites", "log-outputs", "log-output"]);
const URL_KEYS = [
  "listen-peer-urls",
  "listen-client-urls",
  "initial-advertise-peer-urls",
  "advertise-client-urls",
  "listen-metrics-urls",
];
const GO_TYPES: Record<string, string> = {
  "snapshot-count": "uint64",
  "quota-backend-bytes": "int64",
};

/** The JSON kind Go names in unmarshal errors. */
function jsonType(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  return "object";
}

function goType(spec: FlagSpec, key: string): string {
  if (LIST_KEYS.has(key)) return "[]string";
  if (GO_TYPES[spec.name]) return GO_TYPES[spec.name];
  switch (spec.kind) {
    case "bool":
      return "bool";
    case "uint":
      return "uint";
    case "uint32":
      return "uint32";
    case "int":
      return "int";
    case "duration":
      return "time.Duration";
    default:
      return "string";
  }
}

type Decoded = { value: FlagValue } | { error: string };

/** Converts one JSON value to a flag value, or gives Go's unmarshal error. */
function decodeValue(spec: FlagSpec, key: string, v: unknown, where: string): Decoded {
  // A number that does not fit a numeric field is shown with its literal, as Go does.
  const numeric = typeof v === "number" &&
    (spec.kind === "uint" || spec.kind === "uint32" || spec.kind === "int");
  const typeErr = () => ({
    error: `json: cannot unmarshal ${
      numeric ? `number ${v}` : jsonType(v)
    } into Go struct field ${where} of type ${goType(spec, key)}`,
  });
  if (LIST_KEYS.has(key)) {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) return typeErr();
    return { value: spec.kind === "uniqueStrings" ? [...new Set(v as string[])].sort() : v };
  }
  switch (spec.kind) {
    case "bool":
      return typeof v === "boolean" ? { value: v } : typeErr();
    case "uint":
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v) || (spec.kind === "uint" && v < 0)) {
        return typeErr();
      }
      return { value: v };
    case "uint32":
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        return typeErr();
      }
      return { value: v };
    case "duration": {
      // time.Duration decodes from nanoseconds; a Go duration string is accepted too.
      if (typeof v === "number" && Number.isInteger(v)) return { value: v / 1e6 };
      const d = typeof v === "string" ? parseGoDuration(v) : undefined;
      return typeof d === "number" ? { value: d } : typeErr();
    }
    case "uniqueStrings":
      // host-whitelist is a comma-separated string in the file.
      return typeof v === "string" ? { value: [...new Set(v.split(","))].sort() } : typeErr();
    default:
      return typeof v === "string" ? { value: v } : typeErr();
  }
}

function yamlError(e: unknown, text: string): string {
  const err = e as { message?: string; linePos?: { line: number }[]; pos?: number[] };
  const first = (err.message ?? String(e)).split(" at line ")[0];
  let line = err.linePos?.[0]?.line ?? 1;
  let msg = first.charAt(0).toLowerCase() + first.slice(1);
  const flow = /^Flow (sequence|map)/.exec(first);
  if (flow) {
    const open = flow[1] === "sequence" ? "[" : "{";
    const at = text.lastIndexOf(open, err.pos?.[0] ?? text.length);
    if (at >= 0) line = text.slice(0, at).split("\n").length;
    msg = `did not find expected ',' or '${flow[1] === "sequence" ? "]" : "}"}'`;
  }
  return `error converting YAML to JSON: yaml: line ${line}: ${msg}`;
}

function readError(path: string, e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return `open ${path}: no such file or directory`;
  if (e instanceof Deno.errors.PermissionDenied) return `open ${path}: permission denied`;
  if (e instanceof Deno.errors.IsADirectory) return `read ${path}: is a directory`;
  return `open ${path}: ${e instanceof Error ? e.message : String(e)}`;
}

/** What decoding the file builds: the values, the keys given, and the strings set up last. */
interface Decoding {
  state: FlagState;
  explicit: Set<string>;
  /** URL lists and choice flags: strings in the file, checked after decoding as etcdmain does. */
  deferred: Map<string, string>;
}

export async function loadConfigFile(
  path: string,
  readFile: (p: string) => string,
): Promise<FileResult> {
  const doc = await readYAML(path, readFile);
  if ("error" in doc) return { ok: false, error: doc.error, raw: false };
  const d: Decoding = { state: newFlagState(), explicit: new Set(), deferred: new Map() };
  const err = decodeDocument(doc.value, d);
  if (err !== undefined) {
    return { ok: false, error: `error unmarshaling JSON: while decoding JSON: ${err}`, raw: false };
  }
  const setupErr = setUpDeferred(d);
  if (setupErr !== undefined) return { ok: false, error: setupErr, raw: true };
  const { state, explicit } = d;
  // A discovery finds the members, so the default initial cluster does not apply.
  const discovery = state.values.get("discovery") || state.values.get("discovery-srv");
  if (discovery && state.values.get("initial-cluster") === DEFAULT_INITIAL_CLUSTER) {
    state.values.set("initial-cluster", "");
  }
  return { ok: true, state, explicit };
}

// The YAML parser is loaded only for a config file: it would slow every other start.
async function readYAML(
  path: string,
  readFile: (p: string) => string,
): Promise<{ value: unknown } | { error: string }> {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    return { error: readError(path, e) };
  }
  const { default: YAML } = await import("yaml");
  try {
    return { value: YAML.parse(text, { version: "1.1" }) };
  } catch (e) {
    return { error: yamlError(e, text) };
  }
}

/** Decodes every key into `d`, or returns Go's unmarshal error. */
function decodeDocument(doc: unknown, d: Decoding): string | undefined {
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    return `json: cannot unmarshal ${jsonType(doc)} into Go value of type embed.configYAML`;
  }
  const entries = Object.entries(doc as Record<string, unknown>).map(([k, v]) =>
    [k.toLowerCase(), v] as const
  );
  // etcd decodes the file twice: the server struct, then the v2-proxy struct.
  const passes = [
    entries.filter(([k]) => !PROXY_KEYS.has(k)),
    entries.filter(([k]) => PROXY_KEYS.has(k)),
  ];
  for (const pass of passes) {
    for (const [key, value] of pass) {
      if (value === null) continue;
      const struct = PROXY_KEYS.has(key) ? "configProxy" : "configYAML";
      const err = key === "client-transport-security" || key === "peer-transport-security"
        ? decodeSecurity(key, value, struct, d)
        : decodeKey(key, value, struct, d);
      if (err !== undefined) return err;
    }
  }
}

/** A `client-transport-security` or `peer-transport-security` block: the TLS flags nested. */
function decodeSecurity(
  key: string,
  value: unknown,
  struct: string,
  d: Decoding,
): string | undefined {
  if (typeof value !== "object" || Array.isArray(value)) {
    return `json: cannot unmarshal ${
      jsonType(value)
    } into Go struct field ${struct}.${key} of type embed.securityConfig`;
  }
  for (const [sub, sv] of Object.entries(value as Record<string, unknown>)) {
    const names = TLS_KEYS[sub.toLowerCase()];
    if (!names || sv === null) continue;
    const name = names[key.startsWith("peer") ? 1 : 0];
    const spec = FLAG_BY_NAME.get(name) ?? STRING_SPEC;
    const decoded = decodeValue(spec, sub, sv, `securityConfig.${key}.${sub.toLowerCase()}`);
    if ("error" in decoded) return decoded.error;
    d.state.values.set(name, decoded.value);
    d.explicit.add(name);
  }
}

/** A top-level key named as its flag; keys etcd's structs do not have are ignored, as Go does. */
function decodeKey(key: string, value: unknown, struct: string, d: Decoding): string | undefined {
  const spec = FLAG_BY_NAME.get(key);
  if (
    !spec || NESTED_ONLY.has(key) || spec.kind === "ignored" || key === "config-file" ||
    key === "version"
  ) return;
  if (spec.kind === "urls" || spec.kind === "select" || spec.kind === "origins") {
    if (typeof value !== "string") {
      return `json: cannot unmarshal ${
        jsonType(value)
      } into Go struct field ${struct}.${key} of type string`;
    }
    if (value !== "") d.deferred.set(key, value);
    return;
  }
  const decoded = decodeValue(spec, key, value, `${struct}.${key}`);
  if ("error" in decoded) return decoded.error;
  d.state.values.set(key, decoded.value);
  d.explicit.add(key);
}

/** The URL lists and choice flags, in etcd's order; an error is printed raw, as etcd's. */
function setUpDeferred({ state, explicit, deferred }: Decoding): string | undefined {
  for (const key of URL_KEYS) {
    const raw = deferred.get(key);
    if (raw === undefined) continue;
    const list = parseURLFlag(raw);
    if ("error" in list) return `unexpected error setting up ${key}: ${list.error}`;
    state.values.set(key, list);
    explicit.add(key);
  }
  const cors = deferred.get("cors");
  if (cors !== undefined) {
    // etcd builds this flag value from the file with a constructor that panics on bad input.
    const list = cors === "*" ? [cors] : parseURLFlag(cors);
    if ("error" in list) return `panic: new UniqueURLs should never fail: ${list.error}`;
    state.values.set("cors", list);
    explicit.add("cors");
  }
  for (
    const [key, flagName] of [["discovery-fallback", "discovery-fallback flag"], [
      "proxy",
      "proxyFlag",
    ]]
  ) {
    const raw = deferred.get(key);
    if (raw === undefined) continue;
    if (!FLAG_BY_NAME.get(key)!.choices!.includes(raw)) {
      return `unexpected error setting up ${flagName}: invalid value`;
    }
    state.values.set(key, raw);
    explicit.add(key);
  }
  const clusterState = deferred.get("initial-cluster-state");
  if (clusterState !== undefined) {
    state.values.set("initial-cluster-state", clusterState);
    explicit.add("initial-cluster-state");
  }
}
