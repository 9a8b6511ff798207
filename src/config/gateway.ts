// `etcd-ts gateway ...`: etcd's cobra command tree (cobra.ts) with the gateway's flags.
import { type CobraCommand, type CobraOutcome, parseCobra, startHelp } from "./cobra.ts";

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
}

export type GatewayOutcome = CobraOutcome<GatewayConfig>;

const GATEWAY: CobraCommand = {
  group: "gateway",
  groupSummary: "gateway related command",
  startSummary: "start the gateway",
  flags: [
    {
      name: "discovery-srv",
      type: "string",
      help: "DNS domain whose SRV records list the endpoints",
      default: "",
    },
    {
      name: "discovery-srv-name",
      type: "string",
      help: "suffix for the SRV service names queried",
      default: "",
    },
    {
      name: "endpoints",
      type: "strings",
      help: "comma-separated etcd client endpoints",
      default: ["127.0.0.1:2379"],
    },
    {
      name: "insecure-discovery",
      type: "bool",
      help: "also use plain-http SRV endpoints",
      default: false,
    },
    {
      name: "listen-addr",
      type: "string",
      help: "address the gateway listens on",
      default: "127.0.0.1:23790",
    },
    {
      name: "retry-delay",
      type: "duration",
      help: "how long a failed endpoint rests before a retry",
      default: 60_000,
    },
    {
      name: "trusted-ca-file",
      type: "string",
      help: "CA used to check endpoints found through --discovery-srv",
      default: "",
    },
  ],
};

/** `etcd-ts gateway start --help`. */
export const gatewayStartHelp = (): string => startHelp(GATEWAY);

/** argv after "gateway". */
export function parseGatewayArgs(argv: string[]): GatewayOutcome {
  const out = parseCobra(GATEWAY, argv);
  if (out.action !== "run") return out;
  const v = out.config;
  return {
    action: "run",
    config: {
      endpoints: v.get("endpoints") as string[],
      listenAddr: v.get("listen-addr") as string,
      discoverySrv: v.get("discovery-srv") as string,
      discoverySrvName: v.get("discovery-srv-name") as string,
      insecureDiscovery: v.get("insecure-discovery") as boolean,
      trustedCaFile: v.get("trusted-ca-file") as string,
      retryDelay: v.get("retry-delay") as number,
    },
  };
}
