// Keys for JWT tests, made by openssl in a temporary directory: RSA (PKCS#8 and PKCS#1), EC on
// P-256, P-384 and P-521 (SEC 1, and P-256 as PKCS#8), Ed25519, each private key's public key,
// a self-signed certificate of the RSA key, a second RSA key pair and a file that is no PEM.

const SCRIPT = String.raw`
set -e
q() { out=$("$@" 2>&1) || { echo "failed: $* $out" >&2; exit 1; }; }
q openssl genrsa -out rsa.pem 2048
q openssl genrsa -traditional -out rsa1.pem 2048
q openssl genrsa -out rsa2.pem 2048
q openssl ecparam -name prime256v1 -genkey -noout -out ec256.pem
q openssl ecparam -name secp384r1 -genkey -noout -out ec384.pem
q openssl ecparam -name secp521r1 -genkey -noout -out ec521.pem
q openssl pkcs8 -topk8 -nocrypt -in ec256.pem -out ec256p8.pem
q openssl genpkey -algorithm ed25519 -out ed.pem
for k in rsa rsa1 rsa2; do q openssl rsa -in $k.pem -pubout -out $k.pub; done
for k in ec256 ec384 ec521; do q openssl ec -in $k.pem -pubout -out $k.pub; done
q openssl req -x509 -key rsa.pem -out rsa-cert.pem -days 5 -subj /CN=jwt
echo "not a key" > junk.pem
`;

export interface JwtKeyFiles {
  dir: string;
  /** Absolute path of a file made by the script above, by its name. */
  path(name: string): string;
}

export async function makeJwtKeys(): Promise<JwtKeyFiles> {
  const dir = Deno.makeTempDirSync({ prefix: "etcd-ts-jwt-" });
  const out = await new Deno.Command("bash", {
    args: ["-c", SCRIPT],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return { dir, path: (name) => `${dir}/${name}` };
}
