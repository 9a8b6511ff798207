// Certificate revocation lists (PEM or DER), re-read for every connection as etcd does so a
// new list takes effect without a restart.
import { Buffer } from "node:buffer";
import { pemBlocks, readFileGo } from "./files.ts";
import { x509 } from "./x509.ts";

/** Serial as Go's %x prints a big.Int: lowercase hex, no leading zeros. */
export function serialHex(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, "");
}

/** The revoked serials of a CRL file (Go's x509.ParseCRL accepts PEM `X509 CRL` or DER). */
export function revokedSerials(path: string): Set<string> {
  const bytes = readFileGo(path);
  const text = new TextDecoder().decode(bytes);
  const block = pemBlocks(text).find((b) => b.type === "X509 CRL");
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(Buffer.from(block ? block.der : bytes));
  } catch {
    throw new Error("x509: malformed crl");
  }
  return new Set(crl.entries.map((e) => serialHex(e.serialNumber)));
}

/** etcd's error for the first presented certificate whose serial the CRL revokes. */
export function checkCRL(path: string, serials: string[]): string | undefined {
  const revoked = revokedSerials(path);
  for (const s of serials) {
    const hex = serialHex(s);
    if (revoked.has(hex)) return `transport: certificate serial ${hex} revoked`;
  }
  return undefined;
}
