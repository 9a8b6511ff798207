// etcd 3.4's verification of the server flags (embed.Config.Validate and etcdmain's checks), in
// etcd's order and with its texts: logging first (its errors come before etcd's logger exists),
// then listen and advertise URLs, the bootstrap flags, the raft timers and the remaining values.
import { goQuote } from "./gostr.ts";
import { checkLogging } from "./logging_rules.ts";
import { type Notice, notice } from "./notice.ts";
import { isGoIP, parseGoURL, splitHostPort } from "./urls.ts";
import type { Values } from "./values.ts";

export const ERR_UNSET_ADVERTISE_CLIENT_URLS =
  "--advertise-client-urls is required when --listen-client-urls is set explicitly";
export const ERR_CONFLICT_BOOTSTRAP_FLAGS =
  `multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"`;
const MAX_ELECTION_MS = 50000;

/** embed.Config.Validate plus etcdmain's checks; `notices` collects warnings on the way. */
export function validate(
  v: Values,
  notices: Notice[],
): [error: string | undefined, loggingReady: boolean] {
  const logErr = checkLoggingFlags(v, notices);
  if (logErr) return [logErr, false];
  return [
    checkURLs(v) ?? checkBootstrap(v) ?? checkTimers(v) ?? checkRest(v) ??
      checkLeaseCheckpoint(v, notices),
    true,
  ];
}

function checkLoggingFlags(v: Values, notices: Notice[]): string | undefined {
  const logging = {
    logger: v.str("logger"),
    logLevel: v.str("log-level"),
    logOutputs: v.list("log-outputs"),
    deprecatedLogOutput: v.list("log-output"),
    debug: v.bool("debug"),
    logPackageLevels: v.str("log-package-levels"),
  };
  const logErr = checkLogging(logging, notices);
  // The deprecated --log-output may have been taken over as --log-outputs.
  v.map.set("log-outputs", logging.logOutputs);
  return logErr;
}

function hostOf(goString: string): string | undefined {
  const u = parseGoURL(goString);
  return "error" in u ? undefined : splitHostPort(u.host)?.host;
}

// etcd binds listeners to IP addresses only (and localhost), never to a name it would resolve.
function checkBindURLs(urls: string[]): string | undefined {
  for (const u of urls) {
    if (u.startsWith("unix:") || u.startsWith("unixs:")) continue;
    const host = hostOf(u);
    if (host === "localhost") continue;
    if (host === undefined || !isGoIP(host)) return `expected IP in URL for binding (${u})`;
  }
}

// Advertised URLs are dialled by others, so they need a host.
function checkHostURLs(flag: string, urls: string[]): string | undefined {
  for (const u of urls) {
    if (hostOf(u) === "") {
      return `--${flag} ${
        goQuote(urls.join(","))
      } must be "host:port" (unexpected empty host (${u}))`;
    }
  }
}

function checkURLs(v: Values): string | undefined {
  for (const f of ["listen-peer-urls", "listen-client-urls", "listen-metrics-urls"]) {
    const err = checkBindURLs(v.list(f));
    if (err) return err;
  }
  for (const f of ["initial-advertise-peer-urls", "advertise-client-urls"]) {
    const err = checkHostURLs(f, v.list(f));
    if (err) return err;
  }
}

/** One way to find the cluster: --initial-cluster, --discovery or --discovery-srv. */
function checkBootstrap(v: Values): string | undefined {
  const nSet = [v.str("discovery"), v.str("initial-cluster"), v.str("discovery-srv")]
    .filter((s) => s !== "").length;
  const state = v.str("initial-cluster-state");
  if (state !== "new" && state !== "existing") return `unexpected clusterState ${goQuote(state)}`;
  if (nSet > 1) return ERR_CONFLICT_BOOTSTRAP_FLAGS;
}

/** The raft timers: an election must span several heartbeats, and not be absurdly long. */
function checkTimers(v: Values): string | undefined {
  const tick = v.num("heartbeat-interval");
  const election = v.num("election-timeout");
  if (tick <= 0) return `--heartbeat-interval must be >0 (set to ${tick}ms)`;
  if (election <= 0) return `--election-timeout must be >0 (set to ${election}ms)`;
  if (5 * tick > election) {
    return `--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`;
  }
  if (election > MAX_ELECTION_MS) {
    return `--election-timeout[${election}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`;
  }
}

// etcd 3.4.23 logs this warning through a zap logger that is nil under capnslog (it panics
// there); etcd-ts logs it in whichever format is configured.
function checkLeaseCheckpoint(v: Values, notices: Notice[]): string | undefined {
  const enabled = v.bool("experimental-enable-lease-checkpoint");
  const persist = v.bool("experimental-enable-lease-checkpoint-persist");
  if (enabled && !persist) {
    const text =
      "Detected that checkpointing is enabled without persistence. Consider enabling experimental-enable-lease-checkpoint-persist";
    notices.push(notice("warn", "embed", text));
  }
  if (persist && !enabled) {
    return "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint";
  }
}

function checkRest(v: Values): string | undefined {
  if (v.list("listen-client-urls").length > 0 && v.list("advertise-client-urls").length === 0) {
    return ERR_UNSET_ADVERTISE_CLIENT_URLS;
  }
  const mode = v.str("auto-compaction-mode");
  if (mode !== "" && mode !== "periodic" && mode !== "revision") {
    return `unknown auto-compaction-mode ${goQuote(mode)}`;
  }
  if (v.num("self-signed-cert-validity") === 0) {
    return "selfSignedCertValidity is invalid,it should be greater than 0";
  }
}
