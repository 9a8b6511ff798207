// The peer port's TLS, as etcd sets it up: auto-TLS certificates for the peer listen hosts (or
// the warning that given files win), the server side with the peer certificate checks, and the
// client side a member dials its peers with (its peer certificate, the peer CA).
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { isTLSURL, loadClientTLS, loadServerTLS, logTLSInfo, resolveAutoTLS } from "../tls/mod.ts";
import type { PeerTLS } from "./peers.ts";

/** Undefined parts mean plain HTTP; a file that cannot be used is fatal, in etcd's words. */
export async function loadPeerTLS(config: Config, log: Logger): Promise<PeerTLS> {
  const peerTLS = await resolveAutoTLS(config.peerTLS, {
    port: "peer",
    dataDir: config.dataDir,
    hosts: config.listenPeerUrls.map((u) => u.host),
    validityYears: config.selfSignedCertValidity,
    log,
  });
  if (peerTLS.certFile === "" && peerTLS.keyFile === "") return {};
  logTLSInfo("peer", peerTLS, config.cipherSuites, log);
  try {
    const server = config.listenPeerUrls.some(isTLSURL)
      ? await loadServerTLS(peerTLS, {
        port: "peer",
        cipherSuites: config.cipherSuites,
        minVersion: config.tlsMinVersion,
        maxVersion: config.tlsMaxVersion,
        skipClientSANVerification: config.experimentalPeerSkipClientSanVerification,
        log,
      })
      : undefined;
    return { server, client: await loadClientTLS(peerTLS) };
  } catch (err) {
    const text = (err as Error).message;
    return log.fatal({ pkg: "etcdmain", text, msg: "listener failed", fields: { error: text } });
  }
}
