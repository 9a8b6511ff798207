// `etcd-ts snapshot save|status|restore` flags, as etcdctl 3.4 takes them (cobra/pflag: `--f v`,
// `--f=v`, `-w v`, bare booleans, flags anywhere among the arguments): etcdctl's global flags
// that a snapshot command uses, and restore's own.
import { formatGoDuration, goQuote, parseGoBool, parseGoDuration } from "../config/mod.ts";

export type Subcommand = "save" | "status" | "restore";

type FlagType = "string" | "bool" | "duration" | "strings";

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  default: string | boolean | number | string[];
  help: string;
  /** Only for restore; the others are etcdctl's global flags. */
  restore?: boolean;
}

export const FLAGS: FlagSpec[] = [
  {
    name: "cacert",
    type: "string",
    default: "",
    help: "verify certificates of TLS-enabled secure servers using this CA bundle",
  },
  {
    name: "cert",
    type: "string",
    default: "",
    help: "identify secure client using this TLS certificate file",
  },
  {
    name: "command-timeout",
    type: "duration",
    default: 5000,
    help: "timeout for short running command (excluding dial timeout); snapshot save waits " +
      "without one unless it is given",
  },
  {
    name: "dial-timeout",
    type: "duration",
    default: 2000,
    help: "dial timeout for client connections",
  },
  { name: "endpoints", type: "strings", default: ["127.0.0.1:2379"], help: "gRPC endpoints" },
  {
    name: "insecure-skip-tls-verify",
    type: "bool",
    default: false,
    help: "skip server certificate verification (CAUTION: this option should be enabled only " +
      "for testing purposes)",
  },
  {
    name: "insecure-transport",
    type: "bool",
    default: true,
    help: "disable transport security for client connections",
  },
  {
    name: "key",
    type: "string",
    default: "",
    help: "identify secure client using this TLS key file",
  },
  {
    name: "password",
    type: "string",
    default: "",
    help: "password for authentication (if this option is used, --user option shouldn't include " +
      "password)",
  },
  {
    name: "user",
    type: "string",
    default: "",
    help: "username[:password] for authentication",
  },
  {
    name: "write-out",
    short: "w",
    type: "string",
    default: "simple",
    help: "set the output format (fields, json, protobuf, simple, table)",
  },
  {
    name: "data-dir",
    type: "string",
    default: "",
    help: "Path to the data directory",
    restore: true,
  },
  {
    name: "initial-advertise-peer-urls",
    type: "string",
    default: "http://localhost:2380",
    help: "List of this member's peer URLs to advertise to the rest of the cluster",
    restore: true,
  },
  {
    name: "initial-cluster",
    type: "string",
    default: "default=http://localhost:2380",
    help: "Initial cluster configuration for restore bootstrap",
    restore: true,
  },
  {
    name: "initial-cluster-token",
    type: "string",
    default: "etcd-cluster",
    help: "Initial cluster token for the etcd cluster during restore bootstrap",
    restore: true,
  },
  {
    name: "name",
    type: "string",
    default: "default",
    help: "Human-readable name for this member",
    restore: true,
  },
  {
    name: "skip-hash-check",
    type: "bool",
    default: false,
    help: "Ignore snapshot integrity hash value (required if copied from data directory)",
    restore: true,
  },
  {
    name: "wal-dir",
    type: "string",
    default: "",
    help: "Path to the WAL directory (use --data-dir if none given)",
    restore: true,
  },
];

export type FlagValues = Record<string, string | boolean | number | string[]>;

export type Parsed =
  | { command: Subcommand | undefined; args: string[]; flags: FlagValues; set: Set<string> }
  | { help: Subcommand | undefined }
  | { error: string };

const SUBCOMMANDS: Subcommand[] = ["save", "status", "restore"];

/** `argv` after "snapshot". */
export function parseSnapshotArgs(argv: string[]): Parsed {
  const words: string[] = [];
  const flags: FlagValues = Object.fromEntries(FLAGS.map((f) => [f.name, f.default]));
  const set = new Set<string>();
  let help = false;
  const rest = [...argv];
  while (rest.length > 0) {
    const a = rest.shift()!;
    if (a === "--") {
      words.push(...rest.splice(0));
      break;
    }
    if (a === "-h" || a === "--help") {
      help = true;
      continue;
    }
    if (!a.startsWith("-") || a === "-") {
      words.push(a);
      continue;
    }
    const read = readFlag(a, rest, words[0] === "restore");
    if ("error" in read) return read;
    const why = setFlag(flags, read.spec, read.value, set.has(read.spec.name));
    if (why) {
      return {
        error: `invalid argument ${goQuote(read.value)} for "--${read.spec.name}" flag: ${why}`,
      };
    }
    set.add(read.spec.name);
  }
  const command = SUBCOMMANDS.find((c) => c === words[0]);
  if (words.length > 0 && !command) {
    return { error: `unknown command "${words[0]}" for "snapshot"` };
  }
  if (help) return { help: command };
  return { command, args: words.slice(1), flags, set };
}

function readFlag(
  a: string,
  rest: string[],
  restore: boolean,
): { spec: FlagSpec; value: string } | { error: string } {
  let name: string;
  let value: string | undefined;
  if (a.startsWith("--")) {
    const eq = a.indexOf("=");
    name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (eq >= 0) value = a.slice(eq + 1);
  } else {
    name = a[1];
    if (a.length > 2) value = a[2] === "=" ? a.slice(3) : a.slice(2);
  }
  const long = a.startsWith("--");
  const spec = FLAGS.find((f) => (long ? f.name === name : f.short === name));
  if (!spec || (spec.restore && !restore)) {
    return {
      error: long ? `unknown flag: --${name}` : `unknown shorthand flag: '${name}' in ${a}`,
    };
  }
  if (value === undefined) {
    if (spec.type === "bool") value = "true";
    else if (rest.length === 0) return { error: `flag needs an argument: ${a}` };
    else value = rest.shift()!;
  }
  return { spec, value };
}

/** Sets one flag; returns pflag's reason when the value does not parse. */
function setFlag(flags: FlagValues, spec: FlagSpec, value: string, again: boolean): string | void {
  switch (spec.type) {
    case "bool": {
      const b = parseGoBool(value);
      if (b === undefined) return `strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`;
      flags[spec.name] = b;
      return;
    }
    case "duration": {
      const d = parseGoDuration(value);
      if (typeof d !== "number") return d.error;
      flags[spec.name] = d;
      return;
    }
    case "strings": {
      // A repeated flag adds to the list; the first one replaces the default.
      const items = value === "" ? [] : value.split(",");
      flags[spec.name] = again ? [...flags[spec.name] as string[], ...items] : items;
      return;
    }
    default:
      flags[spec.name] = value;
  }
}

/** A flag's default as etcdctl's help shows it. */
export function shownDefault(f: FlagSpec): string {
  if (f.type === "bool") return `[=${f.default}]`;
  if (f.type === "duration") return `=${formatGoDuration(f.default as number)}`;
  if (f.type === "strings") return `=[${(f.default as string[]).join(",")}]`;
  return `=${JSON.stringify(f.default)}`;
}
