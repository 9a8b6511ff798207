// Server configuration: etcd 3.4's flags, ETCD_* variables and config file -> one Config.
export { parseServerArgs } from "./server_args.ts";
export type { FailLogging, ParseOutcome } from "./server_args.ts";
export type { Config, InitialClusterMember, LoggerKind, TLSConfig } from "./types.ts";
export type { Notice, NoticeLevel } from "./notice.ts";
export { CIPHER_SUITES, listenerConfigError } from "./listeners.ts";
export { EtcdURL, formatURL } from "./etcd_url.ts";
export { initialClusterFromName, parseInitialCluster } from "./initial_cluster.ts";
export { parseURLList, splitHostPort } from "./urls.ts";
export { formatGoDuration, parseGoDuration } from "./duration.ts";
export { goQuote, goQuoteList, parseGoBool } from "./gostr.ts";
export { ETCD_CLUSTER_VERSION, ETCD_VERSION, VERSION, versionText } from "./version.ts";
export {
  helpCommand,
  type HelpOutcome,
  helpText,
  type Subcommand,
  SUBCOMMANDS,
  USAGE,
} from "./help.ts";
export type { CobraOutcome } from "./cobra.ts";
export { gatewayStartHelp, parseGatewayArgs } from "./gateway.ts";
export type { GatewayConfig, GatewayOutcome } from "./gateway.ts";
export { grpcProxyStartHelp, parseGrpcProxyArgs } from "./grpc_proxy.ts";
export type { GrpcProxyConfig, GrpcProxyOutcome } from "./grpc_proxy.ts";
