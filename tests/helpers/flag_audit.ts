// The audit of the server's flag table (src/config/flags.ts): what becomes of each flag. Every
// flag is one of: used (it sets a Config field that code outside src/config reads), warned
// about (no meaning in etcd-ts: accepted with a start-up warning that says so), handled by the
// parser itself (--version, --config-file), or one of the legacy flags etcd ignores with its own
// warning. tests/config/flag_audit_test.ts checks the table against the code, and
// tests/integration/config/flag_warnings_test.ts checks the warnings reach the log.

import { IGNORED_FLAGS } from "../../src/config/flags.ts";

export interface FlagUse {
  /** The Config path the flag sets (dots for nested fields, e.g. "clientTLS.crlFile"). */
  field: string;
  /** A value other than the default; `with`: flags it needs beside it. */
  sample: string;
  with?: string[];
  /**
   * Files outside src/config that read the value: "path" reads the field's last name,
   * "path#name" reads `name` (a containing field, or the value passed on under another name).
   * One of them reads the Config field itself (the path's first name).
   */
  readers: string[];
}

export type FlagAudit =
  /** `warning`: the use is a v2 proxy's; a member warns that the flag has no effect on it. */
  | { use: FlagUse; warning?: string }
  /** No meaning here: with `sample`, a start-up warning containing `warning`. */
  | { warning: string; sample: string }
  | { parser: "version" | "config-file" }
  | { legacy: true };

const use = (
  field: string,
  sample: string,
  readers: string[],
  extra: { with?: string[]; warning?: string } = {},
): FlagAudit => ({
  use: { field, sample, readers, ...(extra.with ? { with: extra.with } : {}) },
  ...(extra.warning ? { warning: extra.warning } : {}),
});

const CLIENT_TLS = "src/embed/client_listeners.ts#clientTLS";
const PEER_TLS = "src/embed/peer_tls.ts#peerTLS";
const SERVER_FLAGS = "src/embed/server_flags.ts";
const PROXY = "src/proxy/run.ts";
const TLS_SERVER = "src/tls/server.ts";
/** The peer pair is both a listener's and a dialer's. */
const PEER_TLS_BOTH = [PEER_TLS, TLS_SERVER, "src/tls/client.ts"];
/** Settings of both ports' TLS. */
const BOTH_PORTS = ["src/embed/client_listeners.ts", "src/embed/peer_tls.ts"];
const noMemberUse = (flag: string, value: string) =>
  `--${flag}=${value} has no effect on a member: it opens no TLS connection to client URLs`;

export const FLAG_AUDIT: Record<string, FlagAudit> = {
  "config-file": { parser: "config-file" },
  "version": { parser: "version" },

  "name": use("name", "m1", ["src/embed/run.ts", "src/embed/member.ts"]),
  "data-dir": use("dataDir", "/tmp/m1.etcd", ["src/embed/member.ts", "src/embed/run.ts"]),
  "wal-dir": use("walDir", "/tmp/m1.wal", ["src/embed/member.ts", "src/server/member_state.ts"]),
  "snapshot-count": use("snapshotCount", "5000", ["src/embed/run.ts", "src/server/server.ts"]),
  "heartbeat-interval": use("heartbeatInterval", "50", ["src/embed/run.ts", "src/embed/member.ts"]),
  "election-timeout": use("electionTimeout", "2000", ["src/embed/run.ts", "src/embed/member.ts"]),
  "initial-election-tick-advance": use("initialElectionTickAdvance", "false", [
    SERVER_FLAGS,
    "src/server/tick_advance.ts",
  ]),
  "listen-peer-urls": use("listenPeerUrls", "http://127.0.9.1:2380", ["src/embed/peers.ts"]),
  "listen-client-urls": use("listenClientUrls", "http://127.0.9.1:2390", [
    "src/embed/client_listeners.ts",
  ]),
  "max-snapshots": use("maxSnapshots", "2", [SERVER_FLAGS, "src/server/upkeep.ts"]),
  "max-wals": use("maxWals", "2", [SERVER_FLAGS, "src/server/upkeep.ts"]),
  "quota-backend-bytes": use("quotaBackendBytes", "1024", ["src/embed/run.ts", "src/server/kv.ts"]),
  "backend-batch-interval": use("backendBatchInterval", "50ms", ["src/embed/run.ts"]),
  "backend-batch-limit": use("backendBatchLimit", "10", [
    "src/embed/run.ts",
    "src/server/server.ts",
  ]),
  "max-txn-ops": use("maxTxnOps", "3", ["src/embed/run.ts", "src/server/kv.ts"]),
  "max-request-bytes": use("maxRequestBytes", "1024", [
    "src/embed/run.ts",
    "src/server/proposer.ts",
  ]),
  "max-concurrent-streams": use("maxConcurrentStreams", "3", [
    "src/embed/client_listeners.ts",
    "src/api/listener.ts",
  ]),
  "grpc-keepalive-min-time": use("grpcKeepaliveMinTime", "1s", ["src/embed/client_listeners.ts"]),
  "grpc-keepalive-interval": use("grpcKeepaliveInterval", "1s", ["src/embed/client_listeners.ts"]),
  "grpc-keepalive-timeout": use("grpcKeepaliveTimeout", "1s", ["src/embed/client_listeners.ts"]),
  "unsafe-no-fsync": use("unsafeNoFsync", "true", [
    SERVER_FLAGS,
    "src/server/backend.ts",
    "src/storage/wal.ts",
  ]),

  "initial-advertise-peer-urls": use("initialAdvertisePeerUrls", "http://127.0.9.1:2380", [
    "src/embed/member.ts",
  ]),
  "initial-cluster": use("initialCluster", "a=http://127.0.9.1:2380", ["src/embed/member.ts"]),
  "initial-cluster-state": use("initialClusterState", "existing", ["src/embed/member.ts"]),
  "initial-cluster-token": use("initialClusterToken", "t1", ["src/embed/member.ts"]),
  "advertise-client-urls": use("advertiseClientUrls", "http://127.0.9.1:2390", [
    "src/embed/run.ts",
  ]),
  "discovery": use("discovery", "http://127.0.9.1:2379/v2/keys/d", [
    "src/embed/member.ts",
    "src/embed/initial_cluster.ts",
  ]),
  "discovery-fallback": use("discoveryFallback", "exit", ["src/embed/proxy.ts"]),
  "discovery-proxy": use("discoveryProxy", "http://127.0.9.1:8080", [
    "src/embed/initial_cluster.ts",
  ]),
  "discovery-srv": use("discoverySrv", "example.com", [
    "src/embed/member.ts",
    "src/embed/initial_cluster.ts",
  ]),
  "discovery-srv-name": use("discoverySrvName", "x", ["src/embed/initial_cluster.ts"]),
  "strict-reconfig-check": use("strictReconfigCheck", "false", [
    "src/embed/run.ts",
    "src/server/cluster.ts",
  ]),
  "pre-vote": use("preVote", "true", ["src/embed/member.ts", "src/raft/raft.ts"]),
  "auto-compaction-retention": use("compactionRetention", "1", [
    SERVER_FLAGS,
    "src/server/upkeep.ts#autoCompactionRetention",
  ]),
  "auto-compaction-mode": use("autoCompactionMode", "revision", [
    SERVER_FLAGS,
    "src/server/upkeep.ts",
  ]),
  "enable-v2": use("enableV2", "true", ["src/api/services/mod.ts"]),

  "cert-file": use("clientTLS.certFile", "/c.pem", [CLIENT_TLS, TLS_SERVER]),
  "key-file": use("clientTLS.keyFile", "/c.key", [CLIENT_TLS, TLS_SERVER]),
  "client-cert-auth": use("clientTLS.clientCertAuth", "true", [
    CLIENT_TLS,
    TLS_SERVER,
    "src/embed/run.ts",
  ]),
  "client-crl-file": use("clientTLS.crlFile", "/c.crl", [CLIENT_TLS, TLS_SERVER]),
  "client-cert-allowed-hostname": use("clientTLS.allowedHostname", "a.example", [
    CLIENT_TLS,
    TLS_SERVER,
  ]),
  "trusted-ca-file": use("clientTLS.trustedCAFile", "/ca.pem", [CLIENT_TLS, TLS_SERVER]),
  "auto-tls": use("clientTLS.autoTLS", "true", [CLIENT_TLS, "src/tls/selfcert.ts"]),
  "peer-cert-file": use("peerTLS.certFile", "/p.pem", PEER_TLS_BOTH),
  "peer-key-file": use("peerTLS.keyFile", "/p.key", PEER_TLS_BOTH),
  "peer-client-cert-auth": use("peerTLS.clientCertAuth", "true", [PEER_TLS, TLS_SERVER]),
  "peer-trusted-ca-file": use("peerTLS.trustedCAFile", "/ca.pem", PEER_TLS_BOTH),
  "peer-cert-allowed-cn": use("peerTLS.allowedCN", "m1", PEER_TLS_BOTH),
  "peer-cert-allowed-hostname": use("peerTLS.allowedHostname", "a.example", PEER_TLS_BOTH),
  "peer-auto-tls": use("peerTLS.autoTLS", "true", [PEER_TLS, "src/tls/selfcert.ts"]),
  "peer-crl-file": use("peerTLS.crlFile", "/p.crl", [PEER_TLS, TLS_SERVER]),
  "cipher-suites": use("cipherSuites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", [
    ...BOTH_PORTS,
    TLS_SERVER,
  ]),
  "cors": use("cors", "http://a.example:8080", [
    "src/api/services/mod.ts",
    "src/api/http/access.ts",
  ]),
  "host-whitelist": use("hostWhitelist", "a.example", [
    "src/api/services/mod.ts",
    "src/api/http/access.ts",
  ]),

  "auth-token": use("authToken", "jwt,sign-method=HS256", [
    "src/embed/run.ts",
    "src/server/core.ts",
  ]),
  "bcrypt-cost": use("bcryptCost", "4", ["src/embed/run.ts", "src/server/core.ts"]),
  "auth-token-ttl": use("authTokenTtl", "60", ["src/embed/run.ts", "src/server/core.ts"]),

  "enable-pprof": use("enablePprof", "true", [
    "src/api/services/mod.ts",
    "src/embed/metrics_listeners.ts",
  ]),
  "metrics": use("metrics", "extensive", ["src/embed/metrics_listeners.ts"]),
  "listen-metrics-urls": use("listenMetricsUrls", "http://127.0.9.1:2381", [
    "src/embed/metrics_listeners.ts",
  ]),

  "logger": use("logger", "zap", ["main.ts"]),
  "log-outputs": use("logOutputs", "stdout", ["main.ts"]),
  "log-level": use("logLevel", "debug", ["main.ts"]),

  "proxy": use("proxy", "on", ["src/embed/mod.ts", "src/embed/proxy.ts"]),
  "proxy-failure-wait": use("proxyFailureWait", "1000", [PROXY]),
  "proxy-refresh-interval": use("proxyRefreshInterval", "1000", [PROXY]),
  "proxy-dial-timeout": use("proxyDialTimeout", "10", [PROXY]),
  "proxy-write-timeout": use("proxyWriteTimeout", "10", [PROXY]),
  "proxy-read-timeout": use("proxyReadTimeout", "10", [PROXY]),

  "experimental-initial-corrupt-check": use("experimentalInitialCorruptCheck", "true", [
    "src/embed/run.ts",
  ]),
  "experimental-corrupt-check-time": use("experimentalCorruptCheckTime", "1m", [
    SERVER_FLAGS,
    "src/server/upkeep.ts#corruptCheckTimeMs",
  ]),
  "experimental-enable-v2v3": use("experimentalEnableV2v3", "/v2v3", ["src/api/services/mod.ts"]),
  "experimental-backend-bbolt-freelist-type": {
    sample: "map",
    warning: "--experimental-backend-bbolt-freelist-type=map has no effect: etcd-ts keeps its " +
      "backend in SQLite, not bbolt",
  },
  "experimental-enable-lease-checkpoint": use("experimentalEnableLeaseCheckpoint", "true", [
    "src/embed/run.ts",
  ]),
  "experimental-enable-lease-checkpoint-persist": use(
    "experimentalEnableLeaseCheckpointPersist",
    "true",
    ["src/embed/run.ts"],
    { with: ["--experimental-enable-lease-checkpoint"] },
  ),
  "experimental-compaction-batch-limit": use("experimentalCompactionBatchLimit", "10", [
    SERVER_FLAGS,
    "src/server/backend.ts#compactionBatchLimit",
  ]),
  "experimental-peer-skip-client-san-verification": use(
    "experimentalPeerSkipClientSanVerification",
    "true",
    ["src/embed/peer_tls.ts"],
  ),
  "experimental-watch-progress-notify-interval": use(
    "experimentalWatchProgressNotifyInterval",
    "1s",
    ["src/embed/client_listeners.ts"],
  ),
  "experimental-warning-apply-duration": use("experimentalWarningApplyDuration", "1s", [
    SERVER_FLAGS,
    "src/server/server.ts#warningApplyDurationMs",
  ]),

  "force-new-cluster": use("forceNewCluster", "true", ["src/embed/member.ts"]),
  "enable-grpc-gateway": use("enableGrpcGateway", "false", ["src/api/services/mod.ts"]),

  // Deprecated aliases: they set the fields of the flags that replace them.
  "debug": use("logLevel", "true", ["main.ts"]),
  // etcd 3.4 takes --log-output over only when it lists more outputs than --log-outputs.
  "log-output": use("logOutputs", "stderr,stdout", ["main.ts"], { with: ["--logger=zap"] }),
  "log-package-levels": use("logPackageLevels", "etcdmain=WARNING", ["main.ts"]),

  "self-signed-cert-validity": use("selfSignedCertValidity", "2", BOTH_PORTS),
  "tls-min-version": use("tlsMinVersion", "TLS1.3", BOTH_PORTS),
  "tls-max-version": use("tlsMaxVersion", "TLS1.3", BOTH_PORTS),
  "client-cert-file": use(
    "clientTLS.clientCertFile",
    "/cc.pem",
    ["src/embed/proxy.ts#clientTLS", "src/tls/client.ts"],
    { warning: noMemberUse("client-cert-file", "/cc.pem") },
  ),
  "client-key-file": use(
    "clientTLS.clientKeyFile",
    "/cc.key",
    ["src/embed/proxy.ts#clientTLS", "src/tls/client.ts"],
    { warning: noMemberUse("client-key-file", "/cc.key") },
  ),
  "peer-client-cert-file": use("peerTLS.clientCertFile", "/pc.pem", [
    PEER_TLS,
    "src/tls/client.ts",
  ]),
  "peer-client-key-file": use("peerTLS.clientKeyFile", "/pc.key", [PEER_TLS, "src/tls/client.ts"]),

  // etcd 0.4/2.x flags etcd 3.4 still accepts, warning that they are no longer supported.
  ...Object.fromEntries(IGNORED_FLAGS.map((name): [string, FlagAudit] => [name, { legacy: true }])),
};

/** The flags etcd-ts accepts and warns about instead of using: each with a value to give. */
export const WARNED = Object.entries(FLAG_AUDIT).flatMap(([flag, a]) =>
  "warning" in a && a.warning !== undefined
    ? [{ flag, sample: "sample" in a ? a.sample : a.use.sample, warning: a.warning }]
    : []
);
