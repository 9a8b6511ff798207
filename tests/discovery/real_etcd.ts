// A real etcd 3.4 with --enable-v2 on loopback: the discovery backend for these tests.
import net from "node:net";

export interface RealEtcd {
  url: string;
  stop(): Promise<void>;
}

export async function portFree(host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(false);
    });
    s.on("error", () => resolve(true));
  });
}

export async function startEtcd(host: string): Promise<RealEtcd> {
  if (!(await portFree(host, 2379)) || !(await portFree(host, 2380))) {
    throw new Error(`${host}:2379/2380 is in use`);
  }
  const dir = await Deno.makeTempDir({ prefix: "etcd-disc-" });
  const url = `http://${host}:2379`;
  const child = new Deno.Command("etcd", {
    args: [
      "--name=backend",
      `--data-dir=${dir}/data`,
      "--enable-v2",
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://${host}:2380`,
      `--initial-advertise-peer-urls=http://${host}:2380`,
      `--initial-cluster=backend=http://${host}:2380`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/v2/keys/`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error("etcd did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
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
