// Certificates for TLS clusters, made by openssl in a temporary directory: a cluster CA and an
// untrusted one, one key pair per member (IP SANs for its address and 127.0.0.1, because a peer
// connection on loopback arrives from 127.0.0.1; DNS SANs `etcd.test` and `<name>.etcd.test`),
// the same member keys certified by the untrusted CA, and a client key with a good, an
// untrusted and an expired certificate.

const SCRIPT = String.raw`
set -e
q() { out=$("$@" 2>&1) || { echo "failed: $* $out" >&2; exit 1; }; }
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
q openssl req -x509 $ec -keyout ca.key -out ca.pem -days 10 -subj /CN=etcd-test-ca
q openssl req -x509 $ec -keyout untrusted-ca.key -out untrusted-ca.pem -days 10 -subj /CN=untrusted-ca
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
# openssl ca for fixed past dates (OpenSSL 3.0's x509 has no -not_before)
printf '[ca]\ndefault_ca = d\n[d]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\nserial = ca.serial\ndefault_md = sha256\nunique_subject = no\npolicy = p\n[p]\ncommonName = supplied\n' > ca.cnf
touch index.txt; echo 1000 > ca.serial
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
  const o = await new Deno.Command("bash", {
    args: ["-c", SCRIPT],
    cwd: dir,
    env: { IPS: ips.join(" ") },
    stderr: "piped",
  }).output();
  if (o.code !== 0) throw new Error(new TextDecoder().decode(o.stderr));
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
