// openssl-made certificates for SRV clusters: one CA, and per member a key with a certificate
// whose SANs are chosen by the test (the SRV domain, the member's target name, its address).
import { run } from "./process.ts";

export interface SrvCertRequest {
  /** File name stem, e.g. "infra0" or "infra0-nodomain". */
  name: string;
  /** openssl subjectAltName value, e.g. "DNS:example.com,DNS:infra0.example.com,IP:127.0.92.10". */
  san: string;
}

export interface SrvCerts {
  dir: string;
  ca: string;
  cert(name: string): string;
  key(name: string): string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const r = await run("sh", ["-c", `cd "$0" && openssl "$@"`, dir, ...args]);
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

/** Makes the CA and every requested certificate (EC P-256 keys, valid for a few days). */
export async function makeSrvCerts(dir: string, requests: SrvCertRequest[]): Promise<SrvCerts> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "5",
    "-subj",
    "/CN=srv-test-ca",
  );
  for (const r of requests) {
    await openssl(
      dir,
      "req",
      ...ec,
      "-keyout",
      `${r.name}.key`,
      "-out",
      `${r.name}.csr`,
      "-subj",
      `/CN=${r.name}`,
    );
    await Deno.writeTextFile(
      `${dir}/${r.name}.ext`,
      `subjectAltName=${r.san}\nextendedKeyUsage=serverAuth,clientAuth\n`,
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${r.name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${r.name}.pem`,
      "-days",
      "3",
      "-extfile",
      `${r.name}.ext`,
    );
  }
  return {
    dir,
    ca: `${dir}/ca.pem`,
    cert: (name) => `${dir}/${name}.pem`,
    key: (name) => `${dir}/${name}.key`,
  };
}
