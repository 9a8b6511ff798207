// Certificate revocation lists (PEM or DER), re-read for every connection as etcd does so a
// new list takes effect without a restart.
import { Buffer } from "node:buffer";
import { pemBlocks, readFileGo } from "./files.ts";
import type * as x509 from "@peculiar/x509";
import { loadX509 } from "./x509.ts";

/** Serial as Go's %x prints a big.Int: lowercase hex, no leading zeros. */
export function serialHex(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, "");
}

/** The revoked serials of a CRL file (Go's x509.ParseCRL accepts PEM `X509 CRL` or DER). */
export async function revokedSerials(path: string): Promise<Set<string>> {
  const { X509Crl } = await loadX509();
  const bytes = readFileGo(path);
  const text = new TextDecoder().decode(bytes);
  const block = pemBlocks(text).find((b) => b.type === "X509 CRL");
  let crl: x509.X509Crl;
  try {
    crl = new X509Crl(Buffer.from(block ? block.der : bytes));
  } catch {
    throw new Error("x509: malformed crl");
  }
  return new Set(crl.entries.map((e) => serialHex(e.serialNumber)));
}

/** etcd's error for the first presented certificate whose serial the CRL revokes. */
export async function checkCRL(path: string, serials: string[]): Promise<string | undefined> {
  const revoked = await revokedSerials(path);
  for (const s of serials) {
    const hex = serialHex(s);
    if (revoked.has(hex)) return `transport: certificate serial ${hex} revoked`;
  }
  return undefined;
}
