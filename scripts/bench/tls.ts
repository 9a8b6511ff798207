// The client side of the mutual-TLS benchmark: certificate files (passed to the generator as
// JSON) turned into node:tls options for the lean HTTP/2 client.
import { readFileSync } from "node:fs";
import type * as tls from "node:tls";

export interface ClientTLSFiles {
  ca: string;
  cert: string;
  key: string;
  /** A DNS name the member certificates carry: Deno's TLS takes no IP address as server name. */
  servername: string;
}

export function clientTLSOptions(f: ClientTLSFiles): tls.ConnectionOptions {
  return {
    ca: readFileSync(f.ca),
    cert: readFileSync(f.cert),
    key: readFileSync(f.key),
    servername: f.servername,
  };
}
