// The client and peer ports' listeners: binding to a URL as etcd does, and TLS (spec/tls.md):
// options from the flags, etcd's checks and log lines around the handshake, auto-TLS
// certificates, and the OS trust store.
export { loadServerTLS, loadServerTLSSync, SERVER_POLICY } from "./server.ts";
export type { ServerTLS, ServerTLSInfo, ServerTLSOptions } from "./server.ts";
export { loadClientTLS, loadClientTLSSync } from "./client.ts";
export type { ClientTLS } from "./client.ts";
export { createSecureServer } from "./front.ts";
export type { SecureServerOptions } from "./front.ts";
export { goHandshakeError, logRejected } from "./rejection.ts";
export type { Rejection } from "./rejection.ts";
export { checkCertSAN, systemResolver, verifyPeerConnection } from "./verify.ts";
export type { ConnectionPolicy, Resolver } from "./verify.ts";
export { resolveAutoTLS, selfCert } from "./selfcert.ts";
export type { AutoTLSParams } from "./selfcert.ts";
export { systemTrust, useSystemTrustStore } from "./trust.ts";
export { opensslCiphers } from "./ciphers.ts";
export { loadKeyPair, readFileGo, validityError } from "./files.ts";
export { certNames, verifyHostname } from "./names.ts";
export { checkCRL } from "./crl.ts";
export { logTLSInfo, tlsInfoString } from "./info.ts";
export {
  boundAddress,
  boundPort,
  isSecureListenURL,
  isTLSURL,
  isUnixURL,
  listenErrorText,
  listenHost,
  listenOn,
  type ListenOptions,
  unixSocketPath,
} from "./listen_url.ts";
