// The validated server configuration handed to the rest of etcd-ts.

/** An initial-cluster member: name and its peer URLs (Go URL strings, sorted, duplicates kept). */
export interface InitialClusterMember {
  name: string;
  urls: string[];
}

export interface TLSConfig {
  certFile: string;
  keyFile: string;
  /** 3.5: certificate this member presents when it is the client (empty: certFile). */
  clientCertFile: string;
  clientKeyFile: string;
  clientCertAuth: boolean;
  trustedCAFile: string;
  autoTLS: boolean;
  crlFile: string;
  allowedCN: string;
  allowedHostname: string;
}

export type LoggerKind = "capnslog" | "zap";

/** capnslog's levels, for --log-package-levels. */
export type PackageLevel = "critical" | "error" | "warn" | "notice" | "info" | "debug" | "trace";

/**
 * One camelCase field per server flag (TLS flags live in `clientTLS` / `peerTLS`).
 * Units: heartbeat/election/proxy-* in milliseconds (as etcd's uint flags); Go-duration flags
 * (grpc-keepalive-*, backend-batch-interval, experimental-*-time/interval/duration) in ms.
 * URL lists are sorted by Go string form and de-duplicated; a URL's toString() is Go's form.
 */
export interface Config {
  configFile: string;
  name: string;
  dataDir: string;
  walDir: string;
  snapshotCount: number;
  heartbeatInterval: number;
  electionTimeout: number;
  initialElectionTickAdvance: boolean;
  listenPeerUrls: URL[];
  listenClientUrls: URL[];
  listenMetricsUrls: URL[];
  maxSnapshots: number;
  maxWals: number;
  /** As given: 0 means the 2 GiB default, negative disables the quota. */
  quotaBackendBytes: number;
  backendBatchInterval: number;
  backendBatchLimit: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  maxConcurrentStreams: number;
  grpcKeepaliveMinTime: number;
  grpcKeepaliveInterval: number;
  grpcKeepaliveTimeout: number;
  unsafeNoFsync: boolean;

  initialAdvertisePeerUrls: URL[];
  /** The initial-cluster string after etcd's defaulting and clearing rules. */
  initialClusterString: string;
  /** Parsed members (bootstrap.md §4); empty when the string is empty or did not parse. */
  initialCluster: InitialClusterMember[];
  /**
   * `error setting up initial cluster: ...` when the string does not parse. etcd only parses it
   * for a member that is not initialized yet, so the server decides whether it is fatal.
   */
  initialClusterError?: string;
  initialClusterState: "new" | "existing";
  initialClusterToken: string;
  advertiseClientUrls: URL[];
  discovery: string;
  discoveryFallback: "exit" | "proxy";
  discoveryProxy: string;
  discoverySrv: string;
  discoverySrvName: string;
  strictReconfigCheck: boolean;
  preVote: boolean;
  autoCompactionRetention: string;
  autoCompactionMode: string;
  /** Parsed retention: milliseconds (periodic) or revisions (revision); 0 = off. */
  compactionRetention: number;
  enableV2: boolean;

  clientTLS: TLSConfig;
  peerTLS: TLSConfig;
  cipherSuites: string[];
  cors: string[];
  hostWhitelist: string[];
  experimentalPeerSkipClientSanVerification: boolean;
  selfSignedCertValidity: number;
  tlsMinVersion: string;
  tlsMaxVersion: string;

  authToken: string;
  bcryptCost: number;
  authTokenTtl: number;

  enablePprof: boolean;
  metrics: string;

  logger: LoggerKind;
  logLevel: string;
  logOutputs: string[];
  debug: boolean;
  /** capnslog's per-package levels (empty with zap, or when the flag does not parse). */
  logPackageLevels: Record<string, PackageLevel>;

  proxy: "off" | "readonly" | "on";
  proxyFailureWait: number;
  proxyRefreshInterval: number;
  proxyDialTimeout: number;
  proxyWriteTimeout: number;
  proxyReadTimeout: number;

  experimentalInitialCorruptCheck: boolean;
  experimentalCorruptCheckTime: number;
  experimentalEnableV2v3: string;
  experimentalBackendBboltFreelistType: string;
  experimentalEnableLeaseCheckpoint: boolean;
  experimentalEnableLeaseCheckpointPersist: boolean;
  /**
   * The lease checkpoint interval: etcd's 5 minutes, which etcd 3.4 has no flag for; tests
   * shorten it with ETCD_TS_LEASE_CHECKPOINT_INTERVAL (a Go duration).
   */
  leaseCheckpointIntervalMs?: number;
  experimentalCompactionBatchLimit: number;
  experimentalWatchProgressNotifyInterval: number;
  experimentalWarningApplyDuration: number;

  forceNewCluster: boolean;
  enableGrpcGateway: boolean;

  /** Flags the user set (command line or ETCD_* variable, or keys of the config file). */
  explicit: Set<string>;
}
