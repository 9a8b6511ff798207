// A real etcd 3.4 with --enable-v2 on loopback: the discovery backend for these tests.
import { startReadyEtcd } from "../helpers/process.ts";
import { assertPortsFree } from "./ports.ts";

export interface RealEtcd {
  url: string;
  stop(): Promise<void>;
}

export async function startEtcd(host: string): Promise<RealEtcd> {
  await assertPortsFree(host, [2379, 2380]);
  const dir = await Deno.makeTempDir({ prefix: "etcd-disc-" });
  const url = `http://${host}:2379`;
  const child = await startReadyEtcd([
    "--name=backend",
    `--data-dir=${dir}/data`,
    "--enable-v2",
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=http://${host}:2380`,
    `--initial-advertise-peer-urls=http://${host}:2380`,
    `--initial-cluster=backend=http://${host}:2380`,
  ]);
  return {
    url,
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

export async function putSize(base: string, tokenPath: string, size: string): Promise<void> {
  const res = await fetch(`${base}${tokenPath}/_config/size`, {
    method: "PUT",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `value=${size}`,
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`PUT size: ${res.status}`);
}
