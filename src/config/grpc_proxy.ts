// `etcd-ts grpc-proxy ...`: etcd 3.4's cobra command tree (cobra.ts) with the gRPC proxy's flags,
// and the resolver checks etcd makes before it starts anything.
import { type CobraCommand, type CobraOutcome, parseCobra, startHelp } from "./cobra.ts";
import { goQuote } from "./gostr.ts";

export interface GrpcProxyConfig {
  /** As given (comma lists split, repeats appended); the scheme chooses plain or TLS. */
  endpoints: string[];
  listenAddr: string;
  advertiseClientUrl: string;
  resolverPrefix: string;
  /** Seconds. */
  resolverTtl: number;
  namespace: string;
  discoverySrv: string;
  discoverySrvName: string;
  insecureDiscovery: boolean;
  dataDir: string;
  metricsAddr: string;
  enablePprof: boolean;
  debug: boolean;
  maxSendBytes: number;
  maxRecvBytes: number;
  maxConcurrentStreams: number;
  serializableOrdering: boolean;
  leasingPrefix: string;
  /** TLS to the cluster. */
  upstream: { cacert: string; cert: string; key: string; insecureSkipTlsVerify: boolean };
  /** TLS of the proxy's own port. */
  listen: {
    certFile: string;
    keyFile: string;
    trustedCaFile: string;
    clientCrlFile: string;
    cipherSuites: string[];
    autoTls: boolean;
  };
}

export type GrpcProxyOutcome = CobraOutcome<GrpcProxyConfig>;

type Flag = CobraCommand["flags"][number];
const str = (name: string, help: string, def = ""): Flag => ({
  name,
  type: "string",
  help,
  default: def,
});
const bool = (name: string, help: string): Flag => ({ name, type: "bool", help, default: false });

const GRPC_PROXY: CobraCommand = {
  group: "grpc-proxy",
  groupSummary: "grpc-proxy related command",
  startSummary: "start the grpc proxy",
  flags: [
    str(
      "advertise-client-url",
      "address other clients reach this proxy at, registered under --resolver-prefix",
      "127.0.0.1:23790",
    ),
    bool("auto-tls", "serve clients TLS with a generated self-signed certificate"),
    str("cacert", "CA bundle that verifies the cluster members' certificates"),
    str("cert", "client certificate the proxy presents to the cluster members"),
    str("cert-file", "certificate the proxy serves its clients with"),
    str("client-crl-file", "revocation list checked against the clients' certificates"),
    str("data-dir", "directory for the proxy's own files (auto-TLS certificates)", "default.proxy"),
    bool("debug", "log at debug level"),
    str("discovery-srv", "DNS domain whose SRV records list the cluster's client endpoints"),
    str("discovery-srv-name", "suffix for the SRV service names queried"),
    bool("enable-pprof", "Go runtime profiling under /debug/pprof/ (no Go runtime here)"),
    {
      name: "endpoints",
      type: "strings",
      help: "comma-separated client endpoints of the cluster",
      default: ["127.0.0.1:2379"],
    },
    str("experimental-leasing-prefix", "key prefix of the leasing KV's metadata (not supported)"),
    bool(
      "experimental-serializable-ordering",
      "never answer a serializable read with a revision older than one already seen",
    ),
    bool("insecure-discovery", "also use plain-http SRV endpoints"),
    bool(
      "insecure-skip-tls-verify",
      "do not verify the cluster members' certificates (testing only)",
    ),
    str("key", "key of --cert"),
    str("key-file", "key of --cert-file"),
    str("listen-addr", "host:port the proxy serves clients on", "127.0.0.1:23790"),
    {
      name: "listen-cipher-suites",
      type: "strings",
      help: "comma-separated TLS cipher suites offered to clients (empty: the defaults)",
      default: [],
    },
    {
      name: "max-concurrent-streams",
      type: "uint32",
      help: "streams each client connection may have open at once",
      default: 4294967295,
    },
    {
      name: "max-recv-bytes",
      type: "int",
      help: "largest response accepted from the cluster, in bytes",
      default: 2147483647,
    },
    {
      name: "max-send-bytes",
      type: "int",
      help: "largest request sent to the cluster, in bytes",
      default: 1572864,
    },
    str("metrics-addr", "extra URL serving /metrics and /health (http:// or https://)"),
    str("namespace", "prefix added to every key the clients name, and removed from answers"),
    str("resolver-prefix", "key prefix under which the proxies register (shared by all of them)"),
    { name: "resolver-ttl", type: "int", help: "TTL of the registration, in seconds", default: 0 },
    str("trusted-ca-file", "CA bundle that verifies the clients' certificates (and requires them)"),
  ],
};

/** `etcd-ts grpc-proxy start --help`. */
export const grpcProxyStartHelp = (): string => startHelp(GRPC_PROXY);

const refuse = (text: string): GrpcProxyOutcome => ({
  action: "fail",
  stderr: `${text}\n`,
  exitCode: 1,
});

/** argv after "grpc-proxy". */
export function parseGrpcProxyArgs(argv: string[]): GrpcProxyOutcome {
  const out = parseCobra(GRPC_PROXY, argv);
  if (out.action !== "run") return out;
  const v = out.config;
  const s = (name: string) => v.get(name) as string;
  const b = (name: string) => v.get(name) as boolean;
  const n = (name: string) => v.get(name) as number;
  const cfg: GrpcProxyConfig = {
    endpoints: v.get("endpoints") as string[],
    listenAddr: s("listen-addr"),
    advertiseClientUrl: s("advertise-client-url"),
    resolverPrefix: s("resolver-prefix"),
    resolverTtl: n("resolver-ttl"),
    namespace: s("namespace"),
    discoverySrv: s("discovery-srv"),
    discoverySrvName: s("discovery-srv-name"),
    insecureDiscovery: b("insecure-discovery"),
    dataDir: s("data-dir"),
    metricsAddr: s("metrics-addr"),
    enablePprof: b("enable-pprof"),
    debug: b("debug"),
    maxSendBytes: n("max-send-bytes"),
    maxRecvBytes: n("max-recv-bytes"),
    maxConcurrentStreams: n("max-concurrent-streams"),
    serializableOrdering: b("experimental-serializable-ordering"),
    leasingPrefix: s("experimental-leasing-prefix"),
    upstream: {
      cacert: s("cacert"),
      cert: s("cert"),
      key: s("key"),
      insecureSkipTlsVerify: b("insecure-skip-tls-verify"),
    },
    listen: {
      certFile: s("cert-file"),
      keyFile: s("key-file"),
      trustedCaFile: s("trusted-ca-file"),
      clientCrlFile: s("client-crl-file"),
      cipherSuites: v.get("listen-cipher-suites") as string[],
      autoTls: b("auto-tls"),
    },
  };
  // etcd's checkArgs: a prefix needs a TTL and the other way round.
  if (cfg.resolverPrefix !== "" && cfg.resolverTtl < 1) {
    return refuse(`invalid resolver-ttl ${cfg.resolverTtl}`);
  }
  if (cfg.resolverPrefix === "" && cfg.resolverTtl > 0) {
    return refuse(`invalid resolver-prefix ${goQuote(cfg.resolverPrefix)}`);
  }
  if (cfg.resolverPrefix !== "" && cfg.advertiseClientUrl === "") {
    return refuse(`invalid advertise-client-url ${goQuote(cfg.advertiseClientUrl)}`);
  }
  return { action: "run", config: cfg };
}
