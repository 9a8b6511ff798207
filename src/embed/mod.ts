// Starts what the flags ask for, as etcd's startEtcdOrProxyV2 does: the data dir decides
// first (a proxy's data dir stays a proxy), then --proxy.
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { identifyDataDir } from "../proxy/mod.ts";
import { logVersionBanner, runMember } from "./run.ts";
import { runProxy } from "./proxy.ts";

export async function runEtcd(config: Config, log: Logger): Promise<number> {
  logVersionBanner(log);
  const kind = identifyDataDir(config.dataDir, log);
  if (kind === "proxy" || (kind === "empty" && config.proxy !== "off")) {
    return await runProxy(config, log);
  }
  return await runMember(config, log);
}
export { startEmbeddedStore } from "./discovery_store.ts";
