// The server's flag table: every flag etcd 3.4.23 defines, the 3.5 additions etcd-ts accepts,
// and the legacy names etcd ignores. The parser, env-var rules, config file and help all read it.

export type FlagKind =
  | "string"
  | "bool"
  | "uint" // Go uint/uint64: non-negative integer
  | "uint32" // etcd's flags.Uint32Value: strconv.ParseUint's errors as they are
  | "int" // Go int/int64
  | "duration" // Go time.Duration, stored in milliseconds
  | "urls" // comma-separated URL list (types.NewURLs)
  | "select" // one of `choices`
  | "strings" // comma-separated list, order kept
  | "uniqueStrings" // comma-separated set, sorted
  | "origins" // --cors: comma-separated URL list, or "*" (UniqueURLs with "*" as exception)
  | "ignored"; // legacy flag: accepted as a boolean, warned about, no effect

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  default: string;
  help: string;
  group: string;
  choices?: string[];
  /** Default as shown in help, when it differs from `default`. */
  shownDefault?: string;
  /** Not listed in help (etcd hides these too). */
  hidden?: boolean;
}

const G = {
  member: "Member",
  cluster: "Clustering",
  security: "Security",
  auth: "Auth",
  profiling: "Profiling and Monitoring",
  logging: "Logging",
  proxy: "v2 Proxy (to be deprecated in v4)",
  experimental: "Experimental feature",
  unsafe: "Unsafe feature",
  deprecated: "TO BE DEPRECATED",
  v35: "Accepted from etcd 3.5",
  other: "Other",
};
export const GROUP_ORDER = Object.values(G);

function f(
  group: string,
  name: string,
  kind: FlagKind,
  def: string,
  help: string,
  extra: Partial<FlagSpec> = {},
): FlagSpec {
  return { name, kind, default: def, help, group, ...extra };
}

/** Legacy etcd 0.4/2.x flags: accepted and ignored with a warning. */
export const IGNORED_FLAGS = [
  "cluster-active-size",
  "cluster-remove-delay",
  "cluster-sync-interval",
  "config",
  "force",
  "max-result-buffer",
  "max-retry-attempts",
  "peer-heartbeat-interval",
  "peer-election-timeout",
  "retry-interval",
  "snapshot",
  "v",
  "vv",
];

// deno-fmt-ignore
export const FLAGS: FlagSpec[] = [
  f(G.other, "config-file", "string", "", "YAML file with the whole server configuration; when set, other flags and ETCD_* variables are ignored."),
  f(G.other, "version", "bool", "false", "Print version information and exit."),

  f(G.member, "name", "string", "default", "Human-readable member name, looked up in --initial-cluster."),
  f(G.member, "data-dir", "string", "", "Directory holding the member's log, snapshots and database.", { shownDefault: "${name}.etcd" }),
  f(G.member, "wal-dir", "string", "", "Separate directory for the write-ahead log (default: <data-dir>/member/wal)."),
  f(G.member, "snapshot-count", "uint", "100000", "Applied entries between two snapshots (0 means the default)."),
  f(G.member, "heartbeat-interval", "uint", "100", "Raft heartbeat interval in milliseconds."),
  f(G.member, "election-timeout", "uint", "1000", "Raft election timeout in milliseconds; at least 5 heartbeats, at most 50000."),
  f(G.member, "initial-election-tick-advance", "bool", "true", "Fast-forward election ticks at boot so a leader is elected sooner."),
  f(G.member, "listen-peer-urls", "urls", "http://localhost:2380", "URLs to listen on for traffic from other members (IP addresses or localhost; unix:// and unixs:// URLs name a socket file)."),
  f(G.member, "listen-client-urls", "urls", "http://localhost:2379", "URLs to listen on for client gRPC and HTTP traffic (IP addresses or localhost; an http and an https URL may share a port; unix:// and unixs:// URLs name a socket file)."),
  f(G.member, "max-snapshots", "uint", "5", "Snapshot files to keep (0 keeps all)."),
  f(G.member, "max-wals", "uint", "5", "Write-ahead log files to keep (0 keeps all)."),
  f(G.member, "quota-backend-bytes", "int", "0", "Backend size that raises the NOSPACE alarm (0: 2 GiB; negative: no quota)."),
  f(G.member, "backend-batch-interval", "duration", "0", "Longest time before a backend transaction is committed.", { shownDefault: "" }),
  f(G.member, "backend-batch-limit", "int", "0", "Most operations before a backend transaction is committed."),
  f(G.member, "max-txn-ops", "uint", "128", "Most operations allowed in one transaction branch."),
  f(G.member, "max-request-bytes", "uint", "1572864", "Largest client request, in bytes, the server accepts."),
  f(G.member, "max-concurrent-streams", "uint32", "4294967295", "Most concurrent gRPC streams per client connection; also caps the JSON gateway's calls on each listener.", { shownDefault: "math.MaxUint32" }),
  f(G.member, "grpc-keepalive-min-time", "duration", "5s", "Shortest interval a client may use between pings; faster clients get GOAWAY too_many_pings (0: gRPC's 5m)."),
  f(G.member, "grpc-keepalive-interval", "duration", "2h", "Idle time after which the server pings a plain client connection (0 keeps gRPC's 2h)."),
  f(G.member, "grpc-keepalive-timeout", "duration", "20s", "How long a ping may go unanswered before the connection is closed (0 keeps gRPC's 20s)."),
  f(G.member, "unsafe-no-fsync", "bool", "false", "Skip fsync of the log (unsafe: data can be lost on power failure).", { hidden: true }),

  f(G.cluster, "initial-advertise-peer-urls", "urls", "http://localhost:2380", "This member's peer URLs as announced to the other members."),
  f(G.cluster, "initial-cluster", "string", "default=http://localhost:2380", "Members of the cluster to bootstrap: name=peer-url[,name=peer-url...]."),
  f(G.cluster, "initial-cluster-state", "select", "new", "'new' to bootstrap a new cluster, 'existing' to join a running one.", { choices: ["new", "existing"] }),
  f(G.cluster, "initial-cluster-token", "string", "etcd-cluster", "Token mixed into member and cluster IDs; keeps separate clusters on the same hosts apart."),
  f(G.cluster, "advertise-client-urls", "urls", "http://localhost:2379", "This member's client URLs as published to clients; required when --listen-client-urls is set."),
  f(G.cluster, "discovery", "string", "", "Discovery service URL used to bootstrap the cluster."),
  f(G.cluster, "discovery-fallback", "select", "proxy", "What to do when the discovery cluster is full: 'exit' or 'proxy' (v2 API only).", { choices: ["exit", "proxy"] }),
  f(G.cluster, "discovery-proxy", "string", "", "HTTP proxy for requests to the discovery service."),
  f(G.cluster, "discovery-srv", "string", "", "DNS domain whose SRV records list the initial cluster."),
  f(G.cluster, "discovery-srv-name", "string", "", "Suffix added to the SRV service names looked up for bootstrap."),
  f(G.cluster, "strict-reconfig-check", "bool", "true", "Refuse membership changes that could lose quorum."),
  f(G.cluster, "pre-vote", "bool", "false", "Run Raft's pre-vote phase before elections."),
  f(G.cluster, "auto-compaction-retention", "string", "0", "History kept by automatic compaction (0 disables): hours or a duration (periodic), or revisions (revision)."),
  f(G.cluster, "auto-compaction-mode", "string", "periodic", "How to read --auto-compaction-retention: 'periodic' (time) or 'revision' (count)."),
  f(G.cluster, "enable-v2", "bool", "false", "Serve the v2 API (/v2/keys, /v2/members, ...)."),

  f(G.security, "cert-file", "string", "", "Certificate (PEM) for the client port."),
  f(G.security, "key-file", "string", "", "Private key (PEM) for the client port."),
  f(G.security, "client-cert-auth", "bool", "false", "Require and verify client certificates on the client port."),
  f(G.security, "client-crl-file", "string", "", "Revocation list checked against client certificates."),
  f(G.security, "client-cert-allowed-hostname", "string", "", "Hostname a client certificate must be valid for."),
  f(G.security, "trusted-ca-file", "string", "", "CA bundle that signs client certificates (also makes them mandatory)."),
  f(G.security, "auto-tls", "bool", "false", "Use a generated self-signed certificate on the client port when no cert/key is given."),
  f(G.security, "peer-cert-file", "string", "", "Certificate (PEM) for the peer port and for connections to peers."),
  f(G.security, "peer-key-file", "string", "", "Private key (PEM) for the peer certificate."),
  f(G.security, "peer-client-cert-auth", "bool", "false", "Require and verify peer client certificates."),
  f(G.security, "peer-trusted-ca-file", "string", "", "CA bundle that signs peer certificates."),
  f(G.security, "peer-cert-allowed-cn", "string", "", "Common name a peer certificate must carry."),
  f(G.security, "peer-cert-allowed-hostname", "string", "", "Hostname a peer certificate must be valid for."),
  f(G.security, "peer-auto-tls", "bool", "false", "Use a generated self-signed peer certificate when no peer cert/key is given."),
  f(G.security, "peer-crl-file", "string", "", "Revocation list checked against peer certificates."),
  f(G.security, "cipher-suites", "strings", "", "Comma-separated TLS cipher suites for client and peer ports (empty: runtime defaults)."),
  f(G.security, "cors", "origins", "*", "Comma-separated origins allowed for CORS (empty or * allows all)."),
  f(G.security, "host-whitelist", "uniqueStrings", "*", "Comma-separated Host header values accepted on insecure ports (empty or * allows all)."),

  f(G.auth, "auth-token", "string", "simple", "Auth token type and options: 'simple' or 'jwt,pub-key=...,priv-key=...,sign-method=...'."),
  f(G.auth, "bcrypt-cost", "uint", "10", "bcrypt cost for stored passwords (4 to 31)."),
  f(G.auth, "auth-token-ttl", "uint", "300", "Lifetime of simple auth tokens, in seconds."),

  f(G.profiling, "enable-pprof", "bool", "false", "Serve profiling data under <client URL>/debug/pprof/."),
  f(G.profiling, "metrics", "string", "basic", "Metrics detail: 'basic' or 'extensive' (adds histograms)."),
  f(G.profiling, "listen-metrics-urls", "urls", "", "Extra URLs serving only /metrics and /health."),

  f(G.logging, "logger", "string", "capnslog", "Log format: 'capnslog' (text) or 'zap' (JSON lines)."),
  f(G.logging, "log-outputs", "uniqueStrings", "default", "Where logs go: 'default', 'stderr', 'stdout', or (zap) file paths, comma-separated."),
  f(G.logging, "log-level", "string", "info", "Lowest level logged: debug, info, warn, error, panic or fatal."),

  f(G.proxy, "proxy", "select", "off", "Run as a v2 HTTP proxy: 'off', 'readonly' or 'on'.", { choices: ["off", "readonly", "on"] }),
  f(G.proxy, "proxy-failure-wait", "uint", "5000", "Milliseconds a failed endpoint stays out of rotation."),
  f(G.proxy, "proxy-refresh-interval", "uint", "30000", "Milliseconds between refreshes of the member list."),
  f(G.proxy, "proxy-dial-timeout", "uint", "1000", "Milliseconds allowed for connecting to a member (0: none)."),
  f(G.proxy, "proxy-write-timeout", "uint", "5000", "Milliseconds allowed for writing a request (0: none)."),
  f(G.proxy, "proxy-read-timeout", "uint", "0", "Milliseconds allowed for reading an answer (0: none; keep 0 for watches)."),

  f(G.experimental, "experimental-initial-corrupt-check", "bool", "false", "Compare data hashes with peers before serving."),
  f(G.experimental, "experimental-corrupt-check-time", "duration", "0s", "Interval between periodic corruption checks (0 disables)."),
  f(G.experimental, "experimental-enable-v2v3", "string", "", "Serve v2 requests from the v3 store under this prefix."),
  f(G.experimental, "experimental-backend-bbolt-freelist-type", "string", "array", "Backend freelist type ('array' or 'map'); accepted for compatibility."),
  f(G.experimental, "experimental-enable-lease-checkpoint", "bool", "false", "Persist remaining lease TTLs periodically."),
  f(G.experimental, "experimental-enable-lease-checkpoint-persist", "bool", "false", "Keep lease checkpoints across leader changes and restarts."),
  f(G.experimental, "experimental-compaction-batch-limit", "int", "1000", "Most revisions deleted in one compaction batch."),
  f(G.experimental, "experimental-peer-skip-client-san-verification", "bool", "false", "Do not check peer client certificates' SANs against the remote address."),
  f(G.experimental, "experimental-watch-progress-notify-interval", "duration", "10m", "Interval of progress notifications to watches that ask for them (at least 100ms)."),
  f(G.experimental, "experimental-warning-apply-duration", "duration", "100ms", "Log a warning when applying a request takes longer than this."),

  f(G.unsafe, "force-new-cluster", "bool", "false", "Restart as a one-member cluster keeping the data (unsafe)."),
  f(G.other, "enable-grpc-gateway", "bool", "true", "Serve the JSON gateway for the v3 API under /v3.", { hidden: true }),

  f(G.deprecated, "debug", "bool", "false", "Log at debug level; use --log-level=debug."),
  f(G.deprecated, "log-output", "uniqueStrings", "default", "Former name of --log-outputs (a single output).", { hidden: true }),
  f(G.deprecated, "log-package-levels", "string", "", "Per-package levels such as 'etcdmain=CRITICAL,etcdserver=DEBUG' (capnslog only)."),

  f(G.v35, "self-signed-cert-validity", "uint", "1", "Validity in years of auto-TLS certificates."),
  f(G.v35, "tls-min-version", "string", "TLS1.2", "Lowest TLS version accepted: TLS1.2 or TLS1.3."),
  f(G.v35, "tls-max-version", "string", "", "Highest TLS version accepted (empty: runtime default)."),
  f(G.v35, "client-cert-file", "string", "", "Certificate this member presents as a client (default: --cert-file)."),
  f(G.v35, "client-key-file", "string", "", "Key for --client-cert-file."),
  f(G.v35, "peer-client-cert-file", "string", "", "Certificate presented to peers as a client (default: --peer-cert-file)."),
  f(G.v35, "peer-client-key-file", "string", "", "Key for --peer-client-cert-file."),

  ...IGNORED_FLAGS.map((n) => f(G.other, n, "ignored", "", "No longer supported; ignored.", { hidden: true })),
];

export const FLAG_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((s) => [s.name, s]));
