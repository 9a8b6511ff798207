// Every test certificate, made by openssl (EC P-256 keys): a CA and leaves with the names a test
// asks for; the guide's TLS clusters (a trusted and an untrusted CA, member and client pairs);
// the TLS matrix of tests/integration/tls (every key encoding, a chain, expired and revoked
// certificates, a CRL); and self-signed pairs.
import type { TLSConfig } from "../../src/config/mod.ts";

// Shell functions every script starts with: q runs a command and shows its output only when it
// fails; ca makes a self-signed CA; past_ca prepares `openssl ca` for fixed dates (OpenSSL 3.0's
// x509 has no -not_before) and for CRLs.
const PRELUDE = String.raw`
set -e
q() { out=$("$@" 2>&1) || { echo "failed: $* $out" >&2; exit 1; }; }
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
ca() { q openssl req -x509 $ec -keyout "$1.key" -out "$1.pem" -days 10 -subj "/CN=$2"; }
past_ca() {
  printf '[ca]\ndefault_ca = d\n[d]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\nserial = ca.serial\ncrlnumber = crl.serial\ndefault_md = sha256\ndefault_crl_days = 5\nunique_subject = no\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n' > ca.cnf
  touch index.txt; echo 1000 > ca.serial; echo 01 > crl.serial
}
`;

async function runScript(script: string, dir: string, env: Record<string, string> = {}) {
  const o = await new Deno.Command("bash", {
    args: ["-c", PRELUDE + script],
    cwd: dir,
    env,
    stderr: "piped",
  }).output();
  if (o.code !== 0) throw new Error(new TextDecoder().decode(o.stderr));
}

export interface CertRequest {
  /** File name stem: `<name>.pem` and `<name>.key`. */
  name: string;
  /** The subject's CN; `name` by default. */
  cn?: string;
  /** openssl subjectAltName value, e.g. "DNS:infra0.example.com,IP:127.0.92.10". */
  san?: string;
}

export interface IssuedCerts {
  dir: string;
  ca: string;
  cert(name: string): string;
  key(name: string): string;
}

const ISSUE = String.raw`
ca ca etcd-test-ca
while IFS='|' read -r name cn san; do
  [ -n "$name" ] || continue
  q openssl req $ec -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn"
  if [ -n "$san" ]; then echo "subjectAltName=$san" > "$name.ext"; else : > "$name.ext"; fi
  echo "extendedKeyUsage=serverAuth,clientAuth" >> "$name.ext"
  q openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" -days 5 -extfile "$name.ext"
done <<< "$REQUESTS"
`;

/** A CA (`ca.pem`) in `dir` and, signed by it, a certificate for each request, good for server
 * and client authentication. */
export async function issueCerts(dir: string, requests: CertRequest[]): Promise<IssuedCerts> {
  const lines = requests.map((r) => `${r.name}|${r.cn ?? r.name}|${r.san ?? ""}`);
  await runScript(ISSUE, dir, { REQUESTS: lines.join("\n") });
  return {
    dir,
    ca: `${dir}/ca.pem`,
    cert: (name) => `${dir}/${name}.pem`,
    key: (name) => `${dir}/${name}.key`,
  };
}

/** A self-signed certificate (its own CA) for the subjectAltName `san`, as PEM text. */
export async function selfSignedCert(san: string): Promise<{ cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "etcd-ts-self-" });
  try {
    await runScript(
      String
        .raw`q openssl req -x509 $ec -keyout key.pem -out cert.pem -days 1 -subj /CN=self -addext "subjectAltName=$SAN"`,
      dir,
      { SAN: san },
    );
    const read = (f: string) => Deno.readTextFileSync(`${dir}/${f}`);
    return { cert: read("cert.pem"), key: read("key.pem") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A TLSConfig with nothing set but `over`. */
export function tlsConfig(over: Partial<TLSConfig> = {}): TLSConfig {
  return {
    certFile: "",
    keyFile: "",
    clientCertFile: "",
    clientKeyFile: "",
    clientCertAuth: false,
    trustedCAFile: "",
    autoTLS: false,
    crlFile: "",
    allowedCN: "",
    allowedHostname: "",
    ...over,
  };
}

// The guide's TLS clusters: member i's pair for ips[i] (IP SANs for its address and 127.0.0.1,
// since a peer connection on loopback arrives from 127.0.0.1; DNS SANs etcd.test and
// infra<i>.etcd.test), the same member keys certified by an untrusted CA, and a client key with
// a good, an untrusted and an expired certificate.
const CLUSTER = String.raw`
ca ca etcd-test-ca
ca untrusted-ca untrusted-ca
i=0
for ip in $IPS; do
  q openssl req $ec -keyout member$i.key -out member$i.csr -subj /CN=infra$i
  printf "subjectAltName=IP:$ip,IP:127.0.0.1,DNS:etcd.test,DNS:infra$i.etcd.test\nextendedKeyUsage=serverAuth,clientAuth\n" > member$i.ext
  q openssl x509 -req -in member$i.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out member$i.pem -days 5 -extfile member$i.ext
  q openssl x509 -req -in member$i.csr -CA untrusted-ca.pem -CAkey untrusted-ca.key -CAcreateserial -out member$i-untrusted.pem -days 5 -extfile member$i.ext
  i=$((i + 1))
done
q openssl req $ec -keyout client.key -out client.csr -subj /CN=root
printf 'extendedKeyUsage=clientAuth\n' > client.ext
q openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 5 -extfile client.ext
q openssl x509 -req -in client.csr -CA untrusted-ca.pem -CAkey untrusted-ca.key -CAcreateserial -out client-untrusted.pem -days 5 -extfile client.ext
past_ca
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in client.csr -out client-expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile client.ext -notext
`;

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ClusterCerts {
  dir: string;
  ca: string;
  untrustedCA: string;
  /** Member `i`'s pair, signed by the cluster CA. */
  member(i: number): KeyPair;
  /** Member `i`'s key with a certificate from the untrusted CA. */
  untrustedMember(i: number): KeyPair;
  client: KeyPair;
  untrustedClient: KeyPair;
  expiredClient: KeyPair;
}

/** Makes the certificates for members on `ips` (member i on ips[i]) in `dir` (default: a new
 * temporary directory). */
export async function makeClusterCerts(ips: string[], dir?: string): Promise<ClusterCerts> {
  if (dir) await Deno.mkdir(dir, { recursive: true });
  else dir = await Deno.makeTempDir({ prefix: "etcd-ts-certs-" });
  await runScript(CLUSTER, dir, { IPS: ips.join(" ") });
  const pair = (cert: string, key: string) => ({ cert: `${dir}/${cert}`, key: `${dir}/${key}` });
  return {
    dir,
    ca: `${dir}/ca.pem`,
    untrustedCA: `${dir}/untrusted-ca.pem`,
    member: (i) => pair(`member${i}.pem`, `member${i}.key`),
    untrustedMember: (i) => pair(`member${i}-untrusted.pem`, `member${i}.key`),
    client: pair("client.pem", "client.key"),
    untrustedClient: pair("client-untrusted.pem", "client.key"),
    expiredClient: pair("client-expired.pem", "client.key"),
  };
}

/** The guide's client and peer TLS flags for a member with `pair`, trusting `ca` on both ports. */
export function guideTLSFlags(ca: string, pair: KeyPair, peer: KeyPair = pair, peerCA = ca) {
  return [
    "--client-cert-auth",
    `--trusted-ca-file=${ca}`,
    `--cert-file=${pair.cert}`,
    `--key-file=${pair.key}`,
    "--peer-client-cert-auth",
    `--peer-trusted-ca-file=${peerCA}`,
    `--peer-cert-file=${peer.cert}`,
    `--peer-key-file=${peer.key}`,
  ];
}

// The TLS matrix: server pairs in every key encoding (RSA PKCS#1 and PKCS#8, ECDSA SEC1 and
// PKCS#8), a chain through an intermediate, client certificates (good, untrusted, expired,
// revoked, with various SANs and CNs) and a CRL.
const MATRIX = String.raw`
ca ca test-ca
ca bad-ca bad-ca
printf 'subjectAltName=IP:127.0.71.1,IP:127.0.0.1,DNS:localhost,DNS:etcd.test\nextendedKeyUsage=serverAuth,clientAuth\n' > server.ext
# RSA: PKCS#1 and PKCS#8
q openssl genrsa -traditional -out server-rsa1.key 2048
q openssl pkcs8 -topk8 -nocrypt -in server-rsa1.key -out server-rsa8.key
q openssl req -new -key server-rsa1.key -out rsa.csr -subj /CN=server
q openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server-rsa.pem -days 5 -extfile server.ext
# ECDSA: SEC1 and PKCS#8
q openssl ecparam -name prime256v1 -genkey -noout -out server-ec1.key
q openssl pkcs8 -topk8 -nocrypt -in server-ec1.key -out server-ec8.key
q openssl req -new -key server-ec1.key -out ec.csr -subj /CN=server
q openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server-ec.pem -days 5 -extfile server.ext
# A chain: leaf signed by an intermediate, served as leaf + intermediate
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > inter.ext
q openssl req $ec -keyout inter.key -out inter.csr -subj /CN=intermediate
q openssl x509 -req -in inter.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out inter.pem -days 5 -extfile inter.ext
q openssl req $ec -keyout chain-leaf.key -out chain.csr -subj /CN=chained
q openssl x509 -req -in chain.csr -CA inter.pem -CAkey inter.key -CAcreateserial -out chain-leaf.pem -days 5 -extfile server.ext
cat chain-leaf.pem inter.pem > chain.pem
# Clients: one key, several certificates
q openssl req $ec -keyout client.key -out client.csr -subj /CN=root
client() {
  issuer="$3"; [ -n "$issuer" ] || issuer=ca
  printf "$2" > "$1.ext"
  q openssl x509 -req -in client.csr -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial -out "$1.pem" -days 5 -extfile "$1.ext"
}
client client 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=clientAuth\n'
client client-untrusted 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=clientAuth\n' bad-ca
client client-nosan 'extendedKeyUsage=clientAuth\n'
client client-other-ip 'subjectAltName=IP:127.0.5.53\nextendedKeyUsage=clientAuth\n'
client client-dns 'subjectAltName=DNS:localhost\nextendedKeyUsage=clientAuth\n'
client client-dns-wrong 'subjectAltName=DNS:a.invalid,DNS:b.invalid\nextendedKeyUsage=clientAuth\n'
client client-revoked 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=clientAuth\n'
q openssl req -new -key client.key -out other-cn.csr -subj /CN=other
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=clientAuth\n' > other-cn.ext
q openssl x509 -req -in other-cn.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client-other-cn.pem -days 5 -extfile other-cn.ext
past_ca
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in client.csr -out client-expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile client.ext -notext
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in ec.csr -out server-expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile server.ext -notext
q openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -revoke client-revoked.pem
q openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl -out crl.pem
q openssl crl -in crl.pem -outform DER -out crl.der
openssl x509 -in client-revoked.pem -noout -serial | cut -d= -f2 > client-revoked.serial
`;

/** Makes the TLS matrix in a new temporary directory and returns its path. */
export async function makeTLSCerts(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "etcd-ts-tls-" });
  await runScript(MATRIX, dir);
  return dir;
}

/** A client key and certificate for `cn`, signed by the cluster CA of `certs`. */
export async function makeClientCert(certs: ClusterCerts, cn: string): Promise<KeyPair> {
  const name = `client-${cn}`;
  const script = [
    `openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${name}.key`,
    `-out ${name}.csr -subj /CN=${cn} &&`,
    `openssl x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial`,
    `-out ${name}.pem -days 5 -extfile client.ext`,
  ].join(" ");
  const o = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: certs.dir,
    stderr: "piped",
  })
    .output();
  if (o.code !== 0) throw new Error(new TextDecoder().decode(o.stderr));
  return { cert: `${certs.dir}/${name}.pem`, key: `${certs.dir}/${name}.key` };
}
