// --initial-cluster parsing (types.NewURLsMap): name=url pairs, repeated names merged.
import type { InitialClusterMember } from "./types.ts";
import { parseURLList } from "./urls.ts";

export function parseInitialCluster(s: string): InitialClusterMember[] | { error: string } {
  const byName = new Map<string, string[]>();
  for (const piece of s.split(",")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const name = eq < 0 ? piece : piece.slice(0, eq);
    const url = eq < 0 ? "" : piece.slice(eq + 1);
    byName.set(name, [...(byName.get(name) ?? []), url]);
  }
  const members: InitialClusterMember[] = [];
  for (const [name, raw] of byName) {
    const urls = parseURLList(raw);
    if ("error" in urls) return { error: `error setting up initial cluster: ${urls.error}` };
    members.push({ name, urls });
  }
  return members;
}

/** etcd's InitialClusterFromName: `<name>=<each advertised peer URL>`. */
export function initialClusterFromName(name: string, advertisePeerUrls: string[]): string {
  const n = name === "" ? "default" : name;
  return advertisePeerUrls.map((u) => `${n}=${u}`).join(",");
}
