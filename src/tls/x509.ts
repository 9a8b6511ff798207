// @peculiar/x509 behind its polyfill, loaded on first use: only auto-TLS certificates and CRL
// files need it, and loading it costs a member start-up a noticeable share of its time.
import "./reflect_metadata.ts";

export type X509 = typeof import("@peculiar/x509");

let loading: Promise<X509> | undefined;

/** The @peculiar/x509 module (imported once; the polyfill above has run by then). */
export function loadX509(): Promise<X509> {
  return loading ??= import("@peculiar/x509");
}
