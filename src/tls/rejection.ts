// A refused TLS connection in etcd's words: the handshake errors worded as Go's tls package
// words them, and etcd's `rejected connection from ...` line with the names of the certificate
// the client presented.
import type net from "node:net";
import type { Logger } from "../log/mod.ts";

/** Go's names of the TLS alerts a client sends when it refuses the server. */
const GO_ALERTS: Record<string, string> = {
  BadCertificate: "bad certificate",
  UnsupportedCertificate: "unsupported certificate",
  CertificateRevoked: "revoked certificate",
  CertificateExpired: "expired certificate",
  CertificateUnknown: "unknown certificate",
  UnknownCA: "unknown certificate authority",
  HandshakeFailure: "handshake failure",
  ProtocolVersion: "protocol version not supported",
  DecryptError: "error decrypting message",
  IllegalParameter: "illegal parameter",
  AccessDenied: "access denied",
  DecodeError: "error decoding message",
  InternalError: "internal error",
  CloseNotify: "close notify",
  UnexpectedMessage: "unexpected message",
  NoApplicationProtocol: "no application protocol",
};

/** A runtime handshake error worded as Go's tls package words it. */
export function goHandshakeError(err: Error & { code?: string }): string {
  if (err.code === "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE") {
    return "tls: client didn't provide a certificate";
  }
  if (err.message === "socket hang up" || err.code === "ECONNRESET") return "EOF";
  const alert = err.message.match(/received fatal alert: (\w+)/);
  if (alert) return `remote error: tls: ${GO_ALERTS[alert[1]] ?? alert[1]}`;
  return err.message;
}

export interface Rejection {
  remoteAddr: string;
  error: string;
  serverName: string;
  /** Names of the certificate the client presented, if any. */
  ips?: string[];
  dnsNames?: string[];
}

/** etcd's line for a refused TLS connection. */
export function logRejected(log: Logger, r: Rejection): void {
  const q = JSON.stringify;
  const certPart = r.ips === undefined
    ? ""
    : `, IPAddresses ${listQ(r.ips)}, DNSNames ${listQ(r.dnsNames ?? [])}`;
  const fields: Record<string, unknown> = {
    "remote-addr": r.remoteAddr,
    "server-name": r.serverName,
  };
  if (r.ips !== undefined) {
    fields["ip-addresses"] = r.ips;
    fields["dns-names"] = r.dnsNames ?? [];
  }
  fields.error = r.error;
  log.info({
    pkg: "embed",
    text: `rejected connection from ${q(r.remoteAddr)} (error ${q(r.error)}, ServerName ${
      q(r.serverName)
    }${certPart})`,
    msg: "rejected connection",
    fields,
  });
}

const listQ = (items: string[]) => `[${items.map((s) => JSON.stringify(s)).join(" ")}]`;

/**
 * The client's address as Go prints a net.Addr: host:port, an IPv6 host in brackets, "@" for
 * the client of a unix socket (a live socket without an address).
 */
export function addrOf(s: net.Socket | undefined): string {
  if (!s) return "";
  if (!s.remoteAddress) return s.destroyed ? "" : "@";
  const host = s.remoteAddress.includes(":") ? `[${s.remoteAddress}]` : s.remoteAddress;
  return `${host}:${s.remotePort}`;
}
