// From parsed flag values to a validated Config, in the order etcd 3.4 checks things
// (embed.Config.Validate, then etcdmain's defaults), with etcd's texts.
import { parseCompactionRetention } from "./compaction.ts";
import { toEtcdURLs } from "./etcd_url.ts";
import type { FlagValue } from "./goflag.ts";
import { goQuote } from "./gostr.ts";
import { initialClusterFromName, parseInitialCluster } from "./initial_cluster.ts";
import { checkLogging } from "./logging_rules.ts";
import { type Notice, notice } from "./notice.ts";
import type { Config, LoggerKind, TLSConfig } from "./types.ts";
import { isGoIP, parseGoURL, splitHostPort } from "./urls.ts";

export const DEFAULT_INITIAL_CLUSTER = "default=http://localhost:2380";
export const ERR_UNSET_ADVERTISE_CLIENT_URLS =
  "--advertise-client-urls is required when --listen-client-urls is set explicitly";
export const ERR_CONFLICT_BOOTSTRAP_FLAGS =
  `multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"`;
const MAX_ELECTION_MS = 50000;

export type Built =
  | { ok: true; config: Config }
  /** `critical`: a bare fatal line (etcd fails there after validation, in StartEtcd). */
  | { ok: false; error: string; critical: boolean; logger: LoggerKind; loggingReady: boolean };

export class Values {
  constructor(readonly map: Map<string, FlagValue>) {}
  str(n: string): string {
    return (this.map.get(n) ?? "") as string;
  }
  num(n: string): number {
    return (this.map.get(n) ?? 0) as number;
  }
  bool(n: string): boolean {
    return (this.map.get(n) ?? false) as boolean;
  }
  list(n: string): string[] {
    return (this.map.get(n) ?? []) as string[];
  }
}

function hostOf(goString: string): string | undefined {
  const u = parseGoURL(goString);
  return "error" in u ? undefined : splitHostPort(u.host)?.host;
}

function checkBindURLs(urls: string[]): string | undefined {
  for (const u of urls) {
    if (u.startsWith("unix:") || u.startsWith("unixs:")) continue;
    const host = hostOf(u);
    if (host === "localhost") continue;
    if (host === undefined || !isGoIP(host)) return `expected IP in URL for binding (${u})`;
  }
}

function checkHostURLs(flag: string, urls: string[]): string | undefined {
  for (const u of urls) {
    if (hostOf(u) === "") {
      return `--${flag} ${
        goQuote(urls.join(","))
      } must be "host:port" (unexpected empty host (${u}))`;
    }
  }
}

/** embed.Config.Validate plus etcdmain's checks; `notices` collects warnings on the way. */
function validate(
  v: Values,
  notices: Notice[],
): [error: string | undefined, loggingReady: boolean] {
  const logErr = checkLoggingFlags(v, notices);
  if (logErr) return [logErr, false];
  return [validateRest(v), true];
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
  v.map.set("log-outputs", logging.logOutputs);
  return logErr;
}

function validateRest(v: Values): string | undefined {
  for (const f of ["listen-peer-urls", "listen-client-urls", "listen-metrics-urls"]) {
    const err = checkBindURLs(v.list(f));
    if (err) return err;
  }
  for (const f of ["initial-advertise-peer-urls", "advertise-client-urls"]) {
    const err = checkHostURLs(f, v.list(f));
    if (err) return err;
  }
  const nSet = [v.str("discovery"), v.str("initial-cluster"), v.str("discovery-srv")]
    .filter((s) => s !== "").length;
  const state = v.str("initial-cluster-state");
  if (state !== "new" && state !== "existing") return `unexpected clusterState ${goQuote(state)}`;
  if (nSet > 1) return ERR_CONFLICT_BOOTSTRAP_FLAGS;
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

function tls(v: Values, peer: boolean): TLSConfig {
  const p = peer ? "peer-" : "";
  return {
    certFile: v.str(p + "cert-file"),
    keyFile: v.str(p + "key-file"),
    clientCertFile: v.str(p + "client-cert-file"),
    clientKeyFile: v.str(p + "client-key-file"),
    clientCertAuth: v.bool(p + "client-cert-auth"),
    trustedCAFile: v.str(p + "trusted-ca-file"),
    autoTLS: v.bool(p + "auto-tls"),
    crlFile: v.str(peer ? "peer-crl-file" : "client-crl-file"),
    allowedCN: v.str(peer ? "peer-cert-allowed-cn" : "client-cert-allowed-cn"),
    allowedHostname: v.str(peer ? "peer-cert-allowed-hostname" : "client-cert-allowed-hostname"),
  };
}

/** Validates, applies etcd's defaults and builds the Config. */
export function buildConfig(v: Values, explicit: Set<string>, notices: Notice[]): Built {
  const logger = (v.str("logger") === "zap" ? "zap" : "capnslog") as LoggerKind;
  const [err, loggingReady] = validate(v, notices);
  if (err) return { ok: false, error: err, critical: false, logger, loggingReady };

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
  let initialClusterString = v.str("initial-cluster");
  if (name !== "default" && initialClusterString === DEFAULT_INITIAL_CLUSTER) {
    initialClusterString = initialClusterFromName(name, v.list("initial-advertise-peer-urls"));
  }
  const mode = v.str("auto-compaction-mode");
  const retention = parseCompactionRetention(
    v.str("auto-compaction-retention"),
    mode || "periodic",
  );
  if (typeof retention !== "number") {
    return { ok: false, error: retention.error, critical: true, logger, loggingReady: true };
  }

  let initialClusterError: string | undefined;
  let initialCluster: Config["initialCluster"] = [];
  if (v.str("discovery") === "" && v.str("discovery-srv") === "") {
    const parsed = parseInitialCluster(initialClusterString);
    if ("error" in parsed) initialClusterError = parsed.error;
    else initialCluster = parsed;
  }

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

  const clientTLS = tls(v, false);
  const peerTLS = tls(v, true);
  tlsNotices(v, clientTLS, peerTLS, notices);

  const config: Config = {
    configFile: v.str("config-file"),
    name,
    dataDir,
    walDir: v.str("wal-dir"),
    snapshotCount,
    heartbeatInterval: v.num("heartbeat-interval"),
    electionTimeout: v.num("election-timeout"),
    initialElectionTickAdvance: v.bool("initial-election-tick-advance"),
    listenPeerUrls: toEtcdURLs(v.list("listen-peer-urls")),
    listenClientUrls: toEtcdURLs(v.list("listen-client-urls")),
    listenMetricsUrls: toEtcdURLs(v.list("listen-metrics-urls")),
    maxSnapshots: v.num("max-snapshots"),
    maxWals: v.num("max-wals"),
    quotaBackendBytes: quota,
    backendBatchInterval: v.num("backend-batch-interval"),
    backendBatchLimit: v.num("backend-batch-limit"),
    maxTxnOps: v.num("max-txn-ops"),
    maxRequestBytes,
    maxConcurrentStreams: v.num("max-concurrent-streams"),
    grpcKeepaliveMinTime: v.num("grpc-keepalive-min-time"),
    grpcKeepaliveInterval: v.num("grpc-keepalive-interval"),
    grpcKeepaliveTimeout: v.num("grpc-keepalive-timeout"),
    unsafeNoFsync: v.bool("unsafe-no-fsync"),
    initialAdvertisePeerUrls: toEtcdURLs(v.list("initial-advertise-peer-urls")),
    initialClusterString,
    initialCluster,
    ...(initialClusterError !== undefined ? { initialClusterError } : {}),
    initialClusterState: v.str("initial-cluster-state") as Config["initialClusterState"],
    initialClusterToken: v.str("initial-cluster-token"),
    advertiseClientUrls: toEtcdURLs(v.list("advertise-client-urls")),
    discovery: v.str("discovery"),
    discoveryFallback: v.str("discovery-fallback") as Config["discoveryFallback"],
    discoveryProxy: v.str("discovery-proxy"),
    discoverySrv: v.str("discovery-srv"),
    discoverySrvName: v.str("discovery-srv-name"),
    strictReconfigCheck: v.bool("strict-reconfig-check"),
    preVote: v.bool("pre-vote"),
    autoCompactionRetention: v.str("auto-compaction-retention"),
    autoCompactionMode: mode,
    compactionRetention: retention,
    enableV2: v.bool("enable-v2"),
    clientTLS,
    peerTLS,
    cipherSuites: v.list("cipher-suites"),
    cors: v.list("cors"),
    hostWhitelist: v.list("host-whitelist"),
    experimentalPeerSkipClientSanVerification: v.bool(
      "experimental-peer-skip-client-san-verification",
    ),
    selfSignedCertValidity: v.num("self-signed-cert-validity"),
    tlsMinVersion: v.str("tls-min-version"),
    tlsMaxVersion: v.str("tls-max-version"),
    authToken: v.str("auth-token"),
    bcryptCost: v.num("bcrypt-cost"),
    authTokenTtl: v.num("auth-token-ttl"),
    enablePprof: v.bool("enable-pprof"),
    metrics: v.str("metrics"),
    logger,
    logLevel: v.bool("debug") ? "debug" : v.str("log-level"),
    logOutputs: v.list("log-outputs"),
    debug: v.bool("debug"),
    logPackageLevels: v.str("log-package-levels"),
    proxy: v.str("proxy") as Config["proxy"],
    proxyFailureWait: v.num("proxy-failure-wait"),
    proxyRefreshInterval: v.num("proxy-refresh-interval"),
    proxyDialTimeout: v.num("proxy-dial-timeout"),
    proxyWriteTimeout: v.num("proxy-write-timeout"),
    proxyReadTimeout: v.num("proxy-read-timeout"),
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
    forceNewCluster: v.bool("force-new-cluster"),
    enableGrpcGateway: v.bool("enable-grpc-gateway"),
    explicit,
  };
  return { ok: true, config };
}

// Warnings etcd prints while configuring listeners, which never stop the start.
function tlsNotices(v: Values, client: TLSConfig, peer: TLSConfig, notices: Notice[]): void {
  const empty = (t: TLSConfig) => t.certFile === "" && t.keyFile === "";
  if (client.autoTLS && !empty(client)) {
    notices.push(notice("warn", "embed", "ignoring client auto TLS since certs given"));
  }
  if (peer.autoTLS && !empty(peer)) {
    notices.push(notice("warn", "embed", "ignoring peer auto TLS since certs given"));
  }
  for (const u of v.list("listen-peer-urls")) {
    if (!u.startsWith("http:")) continue;
    if (!empty(peer)) {
      notices.push(
        notice(
          "warn",
          "embed",
          `The scheme of peer url ${u} is HTTP while peer key/cert files are presented. Ignored peer key/cert files.`,
        ),
      );
    }
    if (peer.clientCertAuth) {
      notices.push(
        notice(
          "warn",
          "embed",
          `The scheme of peer url ${u} is HTTP while client cert auth (--peer-client-cert-auth) is enabled. Ignored client cert auth for this url.`,
        ),
      );
    }
  }
  for (const u of v.list("listen-client-urls")) {
    if (!u.startsWith("http:") && !u.startsWith("unix:")) continue;
    if (!empty(client)) {
      notices.push(
        notice(
          "warn",
          "embed",
          `The scheme of client url ${u} is HTTP while peer key/cert files are presented. Ignored key/cert files.`,
        ),
      );
    }
    if (client.clientCertAuth) {
      notices.push(
        notice(
          "warn",
          "embed",
          `The scheme of client url ${u} is HTTP while client cert auth (--client-cert-auth) is enabled. Ignored client cert auth for this url.`,
        ),
      );
    }
  }
}
