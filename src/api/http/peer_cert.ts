// The verified client certificate a request arrived with (TLS with --client-cert-auth), kept
// beside the Request the HTTP handlers receive: etcd's v2 API takes a user from its CN.
import type { PeerCertificate, TLSSocket } from "node:tls";

const certificates = new WeakMap<Request, PeerCertificate>();

export function setPeerCertificate(req: Request, cert: PeerCertificate | undefined): void {
  if (cert) certificates.set(req, cert);
}

export function peerCertificateOf(req: Request): PeerCertificate | undefined {
  return certificates.get(req);
}

/** The client certificate of a TLS socket whose handshake verified it. */
export function verifiedPeerCertificate(socket: unknown): PeerCertificate | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (!tls.encrypted || !tls.authorized || !tls.getPeerCertificate) return undefined;
  const cert = tls.getPeerCertificate();
  return cert && Object.keys(cert).length > 0 ? cert : undefined;
}
