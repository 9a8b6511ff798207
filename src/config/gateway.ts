// `etcd-ts gateway ...`: a cobra command tree with pflag parsing (GNU style: `--flag value`,
// `--flag=value`, `-h`), and cobra's error layout.
import { formatGoDuration, parseGoDuration } from "./duration.ts";
import { goQuote, parseGoBool } from "./gostr.ts";

export interface GatewayConfig {
  /** As given (comma lists split, repeats appended); scheme stripping is the gateway's job. */
  endpoints: string[];
  listenAddr: string;
  discoverySrv: string;
  discoverySrvName: string;
  insecureDiscovery: boolean;
  trustedCaFile: string;
  /** Milliseconds. */
  retryDelay: number;
  explicit: Set<string>;
}

export type GatewayOutcome =
  | { action: "run"; config: GatewayConfig }
  | { action: "print"; stdout: string; exitCode: 0 }
  | { action: "fail"; stderr: string; exitCode: 1 };

interface GatewayFlag {
  name: string;
  type: "string" | "strings" | "bool" | "duration";
  help: string;
}

const START_FLAGS: GatewayFlag[] = [
  {
    name: "discovery-srv",
    type: "string",
    help: "DNS domain whose SRV records list the endpoints",
  },
  { name: "discovery-srv-name", type: "string", help: "suffix for the SRV service names queried" },
  { name: "endpoints", type: "strings", help: "comma-separated etcd client endpoints" },
  { name: "insecure-discovery", type: "bool", help: "also use plain-http SRV endpoints" },
  { name: "listen-addr", type: "string", help: "address the gateway listens on" },
  {
    name: "retry-delay",
    type: "duration",
    help: "how long a failed endpoint rests before a retry",
  },
  {
    name: "trusted-ca-file",
    type: "string",
    help: "CA used to check endpoints found through --discovery-srv",
  },
];

const DEFAULTS = {
  endpoints: ["127.0.0.1:2379"],
  listenAddr: "127.0.0.1:23790",
  retryDelay: 60_000,
};

const GATEWAY_HELP = `gateway related command

Usage:
  etcd-ts gateway [command]

Available Commands:
  start       start the gateway

Flags:
  -h, --help   help for gateway

Use "etcd-ts gateway [command] --help" for more information about a command.
`;

function startUsage(): string {
  const rows: [string, string][] = START_FLAGS.map((f) => {
    const type = f.type === "bool" ? "" : ` ${f.type}`;
    let help = f.help;
    if (f.name === "endpoints") help += ` (default [${DEFAULTS.endpoints.join(",")}])`;
    if (f.name === "listen-addr") help += ` (default ${goQuote(DEFAULTS.listenAddr)})`;
    if (f.name === "retry-delay") help += ` (default ${formatGoDuration(DEFAULTS.retryDelay)})`;
    return [`      --${f.name}${type}`, help];
  });
  rows.splice(3, 0, ["  -h, --help", "help for start"]);
  const width = Math.max(...rows.map(([l]) => l.length)) + 3;
  return `Usage:
  etcd-ts gateway start [flags]

Flags:
${rows.map(([l, h]) => l.padEnd(width) + h).join("\n")}
`;
}

const START_HELP = () => `start the gateway\n\n${startUsage()}`;

function fail(err: string, usage: string): GatewayOutcome {
  return { action: "fail", stderr: `Error: ${err}\n${usage}\n${err}`, exitCode: 1 };
}

/** argv after "gateway". */
export function parseGatewayArgs(argv: string[]): GatewayOutcome {
  if (subcommandOf(argv) !== "start") return gatewayCommand(argv);
  // cobra then drops the first "start" and parses the rest, before or after it, as start's.
  const at = argv.indexOf("start");
  return parseStart([...argv.slice(0, at), ...argv.slice(at + 1)]);
}

/**
 * The subcommand cobra finds (its stripFlags): the first argument that is neither a flag nor
 * the value cobra supposes a flag has. `gateway` defines no flags itself, so a `--flag` or
 * `-f` without "=" is taken to be followed by its value.
 */
function subcommandOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    if (s === "--") return undefined;
    if (!s.startsWith("-")) {
      if (s !== "") return s;
      continue;
    }
    if (!s.includes("=") && (s.startsWith("--") || s.length === 2)) i++;
  }
  return undefined;
}

// The gateway command has no action of its own: flags aside, anything prints its help.
function gatewayCommand(argv: string[]): GatewayOutcome {
  const usage = GATEWAY_HELP.split("\n").slice(2).join("\n");
  for (const a of argv) {
    if (a === "--") break;
    if (a === "-h" || a === "--help") break;
    if (a.startsWith("--")) return fail(`unknown flag: ${a.split("=")[0]}`, usage);
    if (a.startsWith("-") && a.length > 1) {
      return fail(`unknown shorthand flag: '${a[1]}' in ${a}`, usage);
    }
  }
  return { action: "print", stdout: GATEWAY_HELP, exitCode: 0 };
}

/** `gateway start [flags]`: the flags over the defaults. */
function parseStart(argv: string[]): GatewayOutcome {
  const cfg: GatewayConfig = {
    endpoints: [...DEFAULTS.endpoints],
    listenAddr: DEFAULTS.listenAddr,
    discoverySrv: "",
    discoverySrvName: "",
    insecureDiscovery: false,
    trustedCaFile: "",
    retryDelay: DEFAULTS.retryDelay,
    explicit: new Set(),
  };
  const usage = startUsage();
  const args = [...argv];
  while (args.length > 0) {
    const s = args.shift()!;
    if (s === "--") break;
    if (!s.startsWith("-") || s === "-") continue; // positional arguments are ignored
    const read = readFlag(s, args, usage);
    if ("action" in read) return read;
    const { flag, value } = read;
    const why = setStartFlag(cfg, flag, value);
    if (why !== undefined) {
      return fail(`invalid argument ${goQuote(value)} for "--${flag.name}" flag: ${why}`, usage);
    }
    cfg.explicit.add(flag.name);
  }
  return { action: "run", config: cfg };
}

/** One flag in pflag's syntax; a separate value is taken off `args`. */
function readFlag(
  s: string,
  args: string[],
  usage: string,
): { flag: GatewayFlag; value: string } | GatewayOutcome {
  if (!s.startsWith("--")) {
    if (s[1] === "h") return { action: "print", stdout: START_HELP(), exitCode: 0 };
    return fail(`unknown shorthand flag: '${s[1]}' in ${s}`, usage);
  }
  let name = s.slice(2);
  if (name === "" || name[0] === "-" || name[0] === "=") {
    return fail(`bad flag syntax: ${s}`, usage);
  }
  let value: string | undefined;
  const eq = name.indexOf("=");
  if (eq >= 0) [name, value] = [name.slice(0, eq), name.slice(eq + 1)];
  if (name === "help") return { action: "print", stdout: START_HELP(), exitCode: 0 };
  const flag = START_FLAGS.find((f) => f.name === name);
  if (!flag) return fail(`unknown flag: --${name}`, usage);
  if (flag.type === "bool") value ??= "true";
  else if (value === undefined) {
    if (args.length === 0) return fail(`flag needs an argument: --${name}`, usage);
    value = args.shift()!;
  }
  return { flag, value };
}

/** Sets the flag's field, or says why the value is invalid (pflag's reason). */
function setStartFlag(cfg: GatewayConfig, flag: GatewayFlag, value: string): string | undefined {
  switch (flag.type) {
    case "bool": {
      const b = parseGoBool(value);
      if (b === undefined) return `strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`;
      cfg.insecureDiscovery = b;
      return;
    }
    case "duration": {
      const d = parseGoDuration(value);
      if (typeof d !== "number") return d.error;
      cfg.retryDelay = d;
      return;
    }
    case "strings": {
      // A repeated --endpoints adds to the list; the first one replaces the default.
      const items = value === "" ? [] : value.split(",");
      cfg.endpoints = cfg.explicit.has(flag.name) ? [...cfg.endpoints, ...items] : items;
      return;
    }
    default:
      if (flag.name === "listen-addr") cfg.listenAddr = value;
      else if (flag.name === "discovery-srv") cfg.discoverySrv = value;
      else if (flag.name === "discovery-srv-name") cfg.discoverySrvName = value;
      else cfg.trustedCaFile = value;
  }
}
