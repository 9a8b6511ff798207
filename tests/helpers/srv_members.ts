// Members inside a DNS namespace (tests/helpers/dns.ts): a test wrapper that creates the
// namespace and a data directory and always removes both, and etcdctl run inside it.
import assert from "node:assert/strict";
import { createDnsNamespace, type DnsNamespace, type DnsSetup } from "./dns.ts";
import { itest, type Run } from "./process.ts";
import { tempDir } from "./tmp.ts";

/** An integration test in a fresh namespace; ignored when `skip` says namespaces cannot be made. */
export function nsTest(
  setup: DnsSetup,
  skip: string | undefined,
  name: string,
  fn: (ns: DnsNamespace, dataDir: string) => Promise<void>,
): void {
  if (skip) {
    Deno.test({ name, ignore: true, fn: () => {} });
    return;
  }
  itest(name, async () => {
    const ns = await createDnsNamespace(setup);
    const dataDir = tempDir().path;
    try {
      await fn(ns, dataDir);
    } finally {
      await ns.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}

export function etcdctl(ns: DnsNamespace, endpoints: string, ...args: string[]): Promise<Run> {
  return ns.run("etcdctl", [`--endpoints=${endpoints}`, "--dial-timeout=5s", ...args], {
    env: { ETCDCTL_API: "3" },
  });
}

export interface ListedMember {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** `member list -w json` with IDs in hex (JSON numbers lose precision above 2^53). */
export async function memberList(ns: DnsNamespace, endpoint: string): Promise<ListedMember[]> {
  const r = await etcdctl(ns, endpoint, "member", "list", "-w", "json");
  assert.equal(r.code, 0, r.stderr);
  const body = r.stdout.replace(/"ID":(\d+)/g, '"ID":"$1"');
  return (JSON.parse(body).members as ListedMember[])
    .map((m) => ({ ...m, ID: BigInt(m.ID).toString(16) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
