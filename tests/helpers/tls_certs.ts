// Test certificates made by openssl in a temporary directory: a CA and an untrusted one, server
// pairs in every key encoding, a chain through an intermediate, client certificates (good,
// untrusted, expired, revoked, with various SANs) and a CRL.

const SCRIPT = String.raw`
set -e
q() { out=$("$@" 2>&1) || { echo "failed: $* $out" >&2; exit 1; }; }
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
q openssl req -x509 $ec -keyout ca.key -out ca.pem -days 10 -subj /CN=test-ca
q openssl req -x509 $ec -keyout bad-ca.key -out bad-ca.pem -days 10 -subj /CN=bad-ca
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
# openssl ca for fixed dates (OpenSSL 3.0 has no -not_before) and for the CRL
printf '[ca]\ndefault_ca = d\n[d]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\nserial = ca.serial\ncrlnumber = crl.serial\ndefault_md = sha256\ndefault_crl_days = 5\nunique_subject = no\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n' > ca.cnf
touch index.txt; echo 1000 > ca.serial; echo 01 > crl.serial
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in client.csr -out client-expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile client.ext -notext
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in ec.csr -out server-expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile server.ext -notext
q openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -revoke client-revoked.pem
q openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl -out crl.pem
q openssl crl -in crl.pem -outform DER -out crl.der
openssl x509 -in client-revoked.pem -noout -serial | cut -d= -f2 > client-revoked.serial
`;

/** Makes the certificates in a new temporary directory and returns its path. */
export async function makeCerts(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "etcd-ts-tls-" });
  const o = await new Deno.Command("bash", { args: ["-c", SCRIPT], cwd: dir, stderr: "piped" })
    .output();
  if (o.code !== 0) throw new Error(new TextDecoder().decode(o.stderr));
  return dir;
}
