// etcd's v2 API for tests: a real etcd 3.4 with --enable-v2 on loopback (the discovery backend
// and the v2 proxy's cluster), and v2 writes as a form body.
import { assertPortsFree } from "./ports.ts";
import { singleMemberFlags, startReadyEtcd } from "./process.ts";
import { tempDir } from "./tmp.ts";

export interface RealEtcd {
  url: string;
  stop(): Promise<void>;
}

/** A one-member etcd 3.4 with the v2 API on `host`'s etcd ports, in its own data dir. */
export async function startEtcd(host: string): Promise<RealEtcd> {
  await assertPortsFree(host, [2379, 2380]);
  const dir = tempDir({ prefix: "etcd-disc-" });
  const child = await startReadyEtcd([
    ...singleMemberFlags("backend", host, `${dir.path}/data`),
    "--enable-v2",
  ]);
  return {
    url: `http://${host}:2379`,
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** A v2 PUT of `value` to the key at `url`, as etcdctl and the discovery client send it. */
export async function putForm(url: string, value: string): Promise<Response> {
  return await fetch(url, {
    method: "PUT",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `value=${encodeURIComponent(value)}`,
  });
}

/** Sets a discovery token's expected cluster size. */
export async function putSize(base: string, tokenPath: string, size: string): Promise<void> {
  const res = await putForm(`${base}${tokenPath}/_config/size`, size);
  await res.body?.cancel();
  if (!res.ok) throw new Error(`PUT size: ${res.status}`);
}
