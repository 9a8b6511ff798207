// `etcd-ts [flags]`: command line, ETCD_* variables or config file -> Config, in etcd 3.4's order.
import { buildConfig } from "./build.ts";
import { applyEnv } from "./env.ts";
import { loadConfigFile } from "./file.ts";
import { type FlagState, parseCommandLine } from "./goflag.ts";
import { parseGoDuration } from "./duration.ts";
import { goQuote } from "./gostr.ts";
import { helpText, USAGE } from "./help.ts";
import { type Notice, notice } from "./notice.ts";
import type { Config, LoggerKind } from "./types.ts";
import { ERR_UNSET_ADVERTISE_CLIENT_URLS } from "./validate.ts";
import { Values } from "./values.ts";
import { versionText } from "./version.ts";

/** The logger to report a failure with (etcd's own logger may not exist yet). */
export interface FailLogging {
  logger: LoggerKind;
  level: string;
  outputs: string[];
}

export type ParseOutcome =
  | { action: "run"; config: Config; notices: Notice[] }
  | { action: "print"; stdout: string; exitCode: 0 }
  | {
    action: "fail";
    /** Raw text for stderr, or (logged) the capnslog text of the main error line. */
    stderr: string;
    exitCode: number;
    /** true: write `notices`, then `records`, through a logger made from `logging`. */
    logged: boolean;
    notices: Notice[];
    records: Notice[];
    logging: FailLogging;
  };

const CHECKPOINT_INTERVAL_VAR = "ETCD_TS_LEASE_CHECKPOINT_INTERVAL";

const CAPNSLOG: FailLogging = { logger: "capnslog", level: "info", outputs: ["default"] };

function usageFail(message: string): ParseOutcome {
  return {
    action: "fail",
    stderr: `${message}\n${USAGE}\n`,
    exitCode: 2,
    logged: false,
    notices: [],
    records: [],
    logging: CAPNSLOG,
  };
}

/** "error verifying flags, <reason>. See 'etcd --help'." in the logger's format. */
function verifyFail(
  reason: string,
  notices: Notice[],
  logging: FailLogging,
): ParseOutcome {
  const text = `error verifying flags, ${reason}. See 'etcd --help'.`;
  const records = [notice("error", "etcdmain", text, "failed to verify flags", { error: reason })];
  if (logging.logger === "zap") records[0].level = "warn";
  if (reason === ERR_UNSET_ADVERTISE_CLIENT_URLS) {
    records.push(notice(
      logging.logger === "zap" ? "warn" : "error",
      "etcdmain",
      "When listening on specific address(es), this etcd process must advertise accessible url(s) to each connected client.",
      "advertise client URLs are not set",
      { error: reason },
    ));
  }
  return { action: "fail", stderr: text, exitCode: 1, logged: true, notices, records, logging };
}

/** A start-up error etcd reports as a critical line (zap: "failed to start etcd" + fatal). */
function criticalFail(
  error: string,
  notices: Notice[],
  logging: FailLogging,
  pkg = "etcdmain",
): ParseOutcome {
  const records = logging.logger === "zap"
    ? [
      notice("warn", pkg, error, "failed to start etcd", { error }),
      notice("critical", pkg, error, "discovery failed", { error }),
    ]
    : [notice("critical", pkg, error)];
  return { action: "fail", stderr: error, exitCode: 1, logged: true, notices, records, logging };
}

function defaultReadFile(path: string): string {
  return new TextDecoder().decode(Deno.readFileSync(path));
}

/** Where the flag values came from, once read: the config file, or flags and ETCD_*. */
interface Sources {
  values: Values;
  explicit: Set<string>;
}

export async function parseServerArgs(
  argv: string[],
  env: Record<string, string>,
  readFile: (path: string) => string = defaultReadFile,
): Promise<ParseOutcome> {
  const cl = parseCommandLine(argv);
  if (cl.kind === "help") return { action: "print", stdout: helpText(), exitCode: 0 };
  if (cl.kind === "usage-error") return usageFail(cl.message);
  const { state } = cl;
  const notices = state.notices;
  if (cl.positional.length > 0) {
    return verifyFail(`'${cl.positional[0]}' is not a valid flag`, notices, CAPNSLOG);
  }
  if (state.values.get("version") === true) {
    return { action: "print", stdout: versionText(), exitCode: 0 };
  }

  // A config file replaces both the command line and the environment (etcd's rule).
  let configFile = state.values.get("config-file") as string;
  if (configFile === "") configFile = env["ETCD_CONFIG_FILE"] ?? "";
  const sources = configFile !== ""
    ? await fromConfigFile(configFile, readFile, notices)
    : fromFlagsAndEnv(state, cl.explicit, env, notices);
  if ("action" in sources) return sources;
  const { values, explicit } = sources;

  const built = buildConfig(values, explicit, notices);
  if (!built.ok) {
    const logging: FailLogging = built.loggingReady
      ? {
        logger: built.logger,
        level: values.str("log-level"),
        outputs: values.list("log-outputs"),
      }
      : CAPNSLOG;
    return built.critical
      ? criticalFail(built.error, notices, logging)
      : verifyFail(built.error, notices, logging);
  }
  const interval = checkpointInterval(env);
  if (typeof interval === "string") return verifyFail(interval, notices, CAPNSLOG);
  if (interval !== undefined) built.config.leaseCheckpointIntervalMs = interval;
  return { action: "run", config: built.config, notices };
}

/** The test knob for the lease checkpoint interval: milliseconds, or the error. */
function checkpointInterval(env: Record<string, string>): number | string | undefined {
  const val = env[CHECKPOINT_INTERVAL_VAR];
  if (val === undefined || val === "") return undefined;
  const ms = parseGoDuration(val);
  if (typeof ms === "object") {
    return `invalid value ${goQuote(val)} for ${CHECKPOINT_INTERVAL_VAR}: ${ms.error}`;
  }
  if (ms <= 0) return `${CHECKPOINT_INTERVAL_VAR} must be positive (${goQuote(val)})`;
  return ms;
}

async function fromConfigFile(
  configFile: string,
  readFile: (path: string) => string,
  notices: Notice[],
): Promise<Sources | ParseOutcome> {
  const loaded = await loadConfigFile(configFile, readFile);
  const logger = loaded.ok && loaded.state.values.get("logger") === "zap" ? "zap" : "capnslog";
  notices.push(notice(
    "info",
    "etcdmain",
    `Loading server configuration from ${
      goQuote(configFile)
    }. Other configuration command line flags and environment variables will be ignored if provided.`,
    "loaded server configuration, other configuration command line flags and environment variables will be ignored if provided",
    { path: configFile },
  ));
  if (!loaded.ok) {
    if (loaded.raw) {
      return {
        action: "fail",
        stderr: loaded.error + "\n",
        exitCode: 1,
        logged: false,
        notices: [],
        records: [],
        logging: CAPNSLOG,
      };
    }
    return verifyFail(loaded.error, notices, { ...CAPNSLOG, logger });
  }
  const values = new Values(loaded.state.values);
  values.map.set("config-file", configFile);
  return { values, explicit: loaded.explicit };
}

function fromFlagsAndEnv(
  state: FlagState,
  given: string[],
  env: Record<string, string>,
  notices: Notice[],
): Sources | ParseOutcome {
  const version = env["ETCD_VERSION"];
  const envWithoutVersion = { ...env };
  delete envWithoutVersion["ETCD_VERSION"];
  delete envWithoutVersion["ETCD_UNSUPPORTED_ARCH"];
  delete envWithoutVersion[CHECKPOINT_INTERVAL_VAR];
  if (version) {
    notices.push(notice(
      "warn",
      "etcdmain",
      `cannot set special environment variable "ETCD_VERSION" (${goQuote(version)})`,
    ));
  }
  const applied = applyEnv(state, given, envWithoutVersion);
  if (applied.fatal) return criticalFail(applied.fatal.text, notices, CAPNSLOG, "pkg/flags");
  if (applied.error) return verifyFail(applied.error, notices, CAPNSLOG);
  const values = new Values(state.values);
  const explicit = new Set([...given, ...applied.used]);
  clearUnsetDefaults(values, explicit);
  return { values, explicit };
}

/**
 * etcdmain drops two defaults the user did not ask for: the advertised client URLs when the
 * client listeners were given (a member must say where it is reachable; a proxy need not), and
 * the initial cluster when a discovery will find the members.
 */
function clearUnsetDefaults(values: Values, explicit: Set<string>): void {
  const isSet = (n: string) => explicit.has(n);
  const mayBeProxy = values.str("proxy") !== "off" ||
    (values.str("discovery") !== "" && values.str("discovery-fallback") === "proxy");
  if (isSet("listen-client-urls") && !isSet("advertise-client-urls") && !mayBeProxy) {
    values.map.set("advertise-client-urls", []);
  }
  const discovery = values.str("discovery") !== "" || values.str("discovery-srv") !== "" ||
    values.str("discovery-srv-name") !== "";
  if (discovery && !isSet("initial-cluster")) values.map.set("initial-cluster", "");
}
