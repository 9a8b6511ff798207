// From parsed flag values to a validated Config, in the order etcd 3.4 checks things
// (embed.Config.Validate, then etcdmain's defaults), with etcd's texts. Each part of the Config
// has its builder: the member and its storage, the listeners' URLs, the cluster bootstrap,
// compaction, the server's limits, transport security, then logging, proxy and experiments.
import { parseCompactionRetention } from "./compaction.ts";
import { toEtcdURLs } from "./etcd_url.ts";
import { initialClusterFromName, parseInitialCluster } from "./initial_cluster.ts";
import { parsePackageLevels } from "./logging_rules.ts";
import { type Notice, notice } from "./notice.ts";
import { securityConfig } from "./transport_security.ts";
import type { Config, LoggerKind } from "./types.ts";
import { validate } from "./validate.ts";
import type { Values } from "./values.ts";

export const DEFAULT_INITIAL_CLUSTER = "default=http://localhost:2380";

export type Built =
  | { ok: true; config: Config }
  /** `critical`: a bare fatal line (etcd fails there after validation, in StartEtcd). */
  | { ok: false; error: string; critical: boolean; logger: LoggerKind; loggingReady: boolean };

/** Validates, applies etcd's defaults and builds the Config. */
export function buildConfig(v: Values, explicit: Set<string>, notices: Notice[]): Built {
  const logger = (v.str("logger") === "zap" ? "zap" : "capnslog") as LoggerKind;
  const [err, loggingReady] = validate(v, notices);
  if (err) return { ok: false, error: err, critical: false, logger, loggingReady };

  // The notices come in etcd's order: the data dir default (etcdmain), then the server's limits
  // (etcdserver), then the listeners' TLS (embed); a bad retention stops the start in between.
  const member = memberConfig(v, notices);
  const compaction = compactionConfig(v);
  if ("error" in compaction) {
    return { ok: false, error: compaction.error, critical: true, logger, loggingReady: true };
  }
  const config: Config = {
    ...member,
    ...listenerURLs(v),
    ...clusterBootstrap(v),
    ...compaction,
    ...serverLimits(v, notices),
    ...securityConfig(v, notices),
    ...loggingConfig(v, logger),
    ...proxyConfig(v),
    ...experimentalConfig(v, explicit, notices),
    enableV2: v.bool("enable-v2"),
    authToken: v.str("auth-token"),
    bcryptCost: v.num("bcrypt-cost"),
    authTokenTtl: v.num("auth-token-ttl"),
    enablePprof: v.bool("enable-pprof"),
    metrics: v.str("metrics"),
    enableGrpcGateway: v.bool("enable-grpc-gateway"),
    explicit,
  };
  return { ok: true, config };
}

/** The member itself: its name, where it keeps its data, and its raft and backend timing. */
function memberConfig(
  v: Values,
  notices: Notice[],
): Pick<
  Config,
  | "configFile"
  | "name"
  | "dataDir"
  | "walDir"
  | "heartbeatInterval"
  | "electionTimeout"
  | "initialElectionTickAdvance"
  | "maxSnapshots"
  | "maxWals"
  | "backendBatchInterval"
  | "backendBatchLimit"
  | "unsafeNoFsync"
  | "forceNewCluster"
> {
  const name = v.str("name");
  let dataDir = v.str("data-dir");
  if (dataDir === "") {
    dataDir = `${name}.etcd`;
    notices.push(
      notice(
        "warn",
        "etcdmain",
        `no data-dir provided, using default data-dir ./${dataDir}`,
        "'data-dir' was empty; using default",
        { "data-dir": dataDir },
      ),
    );
  }
  return {
    configFile: v.str("config-file"),
    name,
    dataDir,
    walDir: v.str("wal-dir"),
    heartbeatInterval: v.num("heartbeat-interval"),
    electionTimeout: v.num("election-timeout"),
    initialElectionTickAdvance: v.bool("initial-election-tick-advance"),
    maxSnapshots: v.num("max-snapshots"),
    maxWals: v.num("max-wals"),
    backendBatchInterval: v.num("backend-batch-interval"),
    backendBatchLimit: v.num("backend-batch-limit"),
    unsafeNoFsync: v.bool("unsafe-no-fsync"),
    forceNewCluster: v.bool("force-new-cluster"),
  };
}

function listenerURLs(
  v: Values,
): Pick<
  Config,
  "listenPeerUrls" | "listenClientUrls" | "listenMetricsUrls" | "advertiseClientUrls"
> {
  return {
    listenPeerUrls: toEtcdURLs(v.list("listen-peer-urls")),
    listenClientUrls: toEtcdURLs(v.list("listen-client-urls")),
    listenMetricsUrls: toEtcdURLs(v.list("listen-metrics-urls")),
    advertiseClientUrls: toEtcdURLs(v.list("advertise-client-urls")),
  };
}

type BootstrapFields =
  | "initialAdvertisePeerUrls"
  | "initialClusterString"
  | "initialCluster"
  | "initialClusterError"
  | "initialClusterState"
  | "initialClusterToken"
  | "discovery"
  | "discoveryFallback"
  | "discoveryProxy"
  | "discoverySrv"
  | "discoverySrvName"
  | "strictReconfigCheck"
  | "preVote";

/** How the member finds its cluster: the initial cluster, or a discovery to ask. */
function clusterBootstrap(v: Values): Pick<Config, BootstrapFields> {
  const name = v.str("name");
  let initialClusterString = v.str("initial-cluster");
  // A member named otherwise than "default" makes the default initial cluster its own name.
  if (name !== "default" && initialClusterString === DEFAULT_INITIAL_CLUSTER) {
    initialClusterString = initialClusterFromName(name, v.list("initial-advertise-peer-urls"));
  }
  let initialClusterError: string | undefined;
  let initialCluster: Config["initialCluster"] = [];
  // With a discovery the members come from there; etcd does not read --initial-cluster.
  if (v.str("discovery") === "" && v.str("discovery-srv") === "") {
    const parsed = parseInitialCluster(initialClusterString);
    if ("error" in parsed) initialClusterError = parsed.error;
    else initialCluster = parsed;
  }
  return {
    initialAdvertisePeerUrls: toEtcdURLs(v.list("initial-advertise-peer-urls")),
    initialClusterString,
    initialCluster,
    ...(initialClusterError !== undefined ? { initialClusterError } : {}),
    initialClusterState: v.str("initial-cluster-state") as Config["initialClusterState"],
    initialClusterToken: v.str("initial-cluster-token"),
    discovery: v.str("discovery"),
    discoveryFallback: v.str("discovery-fallback") as Config["discoveryFallback"],
    discoveryProxy: v.str("discovery-proxy"),
    discoverySrv: v.str("discovery-srv"),
    discoverySrvName: v.str("discovery-srv-name"),
    strictReconfigCheck: v.bool("strict-reconfig-check"),
    preVote: v.bool("pre-vote"),
  };
}

/** The retention is parsed as StartEtcd parses it, which fails after validation. */
function compactionConfig(
  v: Values,
):
  | Pick<Config, "autoCompactionRetention" | "autoCompactionMode" | "compactionRetention">
  | { error: string } {
  const mode = v.str("auto-compaction-mode");
  const retention = parseCompactionRetention(
    v.str("auto-compaction-retention"),
    mode || "periodic",
  );
  if (typeof retention !== "number") return retention;
  return {
    autoCompactionRetention: v.str("auto-compaction-retention"),
    autoCompactionMode: mode,
    compactionRetention: retention,
  };
}

type LimitFields =
  | "snapshotCount"
  | "quotaBackendBytes"
  | "maxTxnOps"
  | "maxRequestBytes"
  | "maxConcurrentStreams"
  | "grpcKeepaliveMinTime"
  | "grpcKeepaliveInterval"
  | "grpcKeepaliveTimeout";

/** etcdserver's limits, with the default and the warnings it logs when it starts. */
function serverLimits(v: Values, notices: Notice[]): Pick<Config, LimitFields> {
  let snapshotCount = v.num("snapshot-count");
  if (snapshotCount === 0) {
    snapshotCount = 100000;
    notices.push(
      notice(
        "info",
        "etcdserver",
        "set snapshot count to default 100000",
        "updating snapshot-count to default",
        { "given-snapshot-count": 0, "updated-snapshot-count": 100000 },
      ),
    );
  }
  const maxRequestBytes = v.num("max-request-bytes");
  if (maxRequestBytes > 10 * 1024 * 1024) {
    notices.push(
      notice(
        "warn",
        "etcdserver",
        `MaxRequestBytes ${maxRequestBytes} exceeds maximum recommended size 10485760`,
        "exceeded recommended request limit",
        { "max-request-bytes": maxRequestBytes },
      ),
    );
  }
  const quota = v.num("quota-backend-bytes");
  quotaNotices(quota, notices);
  return {
    snapshotCount,
    quotaBackendBytes: quota,
    maxTxnOps: v.num("max-txn-ops"),
    maxRequestBytes,
    maxConcurrentStreams: v.num("max-concurrent-streams"),
    grpcKeepaliveMinTime: v.num("grpc-keepalive-min-time"),
    grpcKeepaliveInterval: v.num("grpc-keepalive-interval"),
    grpcKeepaliveTimeout: v.num("grpc-keepalive-timeout"),
  };
}

// The quota stays as given (0 is the 2 GiB default), but etcd warns about the unusual ones.
function quotaNotices(quota: number, notices: Notice[]): void {
  if (quota < 0) {
    notices.push(
      notice("warn", "etcdserver", "disabling backend quota", "disabled backend quota", {
        "quota-size-bytes": quota,
      }),
    );
  }
  if (quota > 8 * 1024 * 1024 * 1024) {
    notices.push(
      notice(
        "warn",
        "etcdserver",
        `backend quota ${quota} exceeds maximum recommended quota 8589934592`,
        "quota exceeds the maximum value",
        { "quota-size-bytes": quota },
      ),
    );
  }
}

function loggingConfig(
  v: Values,
  logger: LoggerKind,
): Pick<Config, "logger" | "logLevel" | "logOutputs" | "debug" | "logPackageLevels"> {
  return {
    logger,
    // The deprecated --debug wins over --log-level.
    logLevel: v.bool("debug") ? "debug" : v.str("log-level"),
    logOutputs: v.list("log-outputs"),
    debug: v.bool("debug"),
    logPackageLevels: packageLevels(v, logger),
  };
}

// Only capnslog has packages; a setting that does not parse was warned about and leaves the
// levels as they are.
function packageLevels(v: Values, logger: LoggerKind): Config["logPackageLevels"] {
  const conf = v.str("log-package-levels");
  if (logger !== "capnslog" || conf === "") return {};
  const levels = parsePackageLevels(conf);
  return "error" in levels ? {} : levels;
}

function proxyConfig(
  v: Values,
): Pick<
  Config,
  | "proxy"
  | "proxyFailureWait"
  | "proxyRefreshInterval"
  | "proxyDialTimeout"
  | "proxyWriteTimeout"
  | "proxyReadTimeout"
> {
  return {
    proxy: v.str("proxy") as Config["proxy"],
    proxyFailureWait: v.num("proxy-failure-wait"),
    proxyRefreshInterval: v.num("proxy-refresh-interval"),
    proxyDialTimeout: v.num("proxy-dial-timeout"),
    proxyWriteTimeout: v.num("proxy-write-timeout"),
    proxyReadTimeout: v.num("proxy-read-timeout"),
  };
}

type ExperimentalFields =
  | "experimentalInitialCorruptCheck"
  | "experimentalCorruptCheckTime"
  | "experimentalEnableV2v3"
  | "experimentalBackendBboltFreelistType"
  | "experimentalEnableLeaseCheckpoint"
  | "experimentalEnableLeaseCheckpointPersist"
  | "experimentalCompactionBatchLimit"
  | "experimentalWatchProgressNotifyInterval"
  | "experimentalWarningApplyDuration";

// bbolt's freelist type has no meaning for the SQLite backend; like etcd, any value is
// accepted (etcd reads every value but "map" as "array").
function freelistNotice(v: Values, explicit: Set<string>, notices: Notice[]): void {
  const flag = "experimental-backend-bbolt-freelist-type";
  if (!explicit.has(flag)) return;
  const value = v.str(flag);
  notices.push(
    notice(
      "warn",
      "etcdmain",
      `--${flag}=${value} has no effect: etcd-ts keeps its backend in SQLite, not bbolt`,
      "flag has no effect: the backend is not bbolt",
      { flag, value },
    ),
  );
}

function experimentalConfig(
  v: Values,
  explicit: Set<string>,
  notices: Notice[],
): Pick<Config, ExperimentalFields> {
  freelistNotice(v, explicit, notices);
  return {
    experimentalInitialCorruptCheck: v.bool("experimental-initial-corrupt-check"),
    experimentalCorruptCheckTime: v.num("experimental-corrupt-check-time"),
    experimentalEnableV2v3: v.str("experimental-enable-v2v3"),
    experimentalBackendBboltFreelistType: v.str("experimental-backend-bbolt-freelist-type"),
    experimentalEnableLeaseCheckpoint: v.bool("experimental-enable-lease-checkpoint"),
    experimentalEnableLeaseCheckpointPersist: v.bool(
      "experimental-enable-lease-checkpoint-persist",
    ),
    experimentalCompactionBatchLimit: v.num("experimental-compaction-batch-limit"),
    experimentalWatchProgressNotifyInterval: v.num("experimental-watch-progress-notify-interval"),
    experimentalWarningApplyDuration: v.num("experimental-warning-apply-duration"),
  };
}
