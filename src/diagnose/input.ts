// What a diagnosis looks at: the member's flags that matter to an SRV bootstrap, and the outside
// world it asks (DNS, certificate files, the clock). Shared by the server, peer and client checks.
import type { DnsResolver } from "../discovery/mod.ts";

export interface SrvDiagnosisInput {
  domain: string;
  srvName: string;
  name: string;
  advertisePeerUrls: string[];
  advertiseClientUrls: string[];
  listenPeerUrls: string[];
  initialClusterToken: string;
  peerTLS: { certFile: string; trustedCAFile: string; autoTLS: boolean };
  clientTLS: { certFile: string; autoTLS: boolean };
}

export interface DiagnoseDeps {
  resolver: DnsResolver;
  readFile(path: string): string;
  now?: Date;
}
