// The member an `etcd-ts discovery-service` keeps its tokens in when no --etcd-endpoint is
// given: a one-member etcd-ts cluster with the v2 API, in this process, on loopback ports next
// to the service's, so tokens survive restarts of the service.
import { parseServerArgs } from "../config/mod.ts";
import type { EmbeddedStore } from "../discovery/mod.ts";
import { createLogger } from "../log/mod.ts";
import { startMember } from "./run.ts";

const NAME = "discovery-service";

export const startEmbeddedStore: EmbeddedStore = async ({ host, port, dataDir }) => {
  const client = `http://${host}:${port}`;
  const peer = `http://${host}:${port + 1}`;
  const parsed = await parseServerArgs([
    "--name",
    NAME,
    "--data-dir",
    dataDir,
    "--enable-v2",
    "--listen-client-urls",
    client,
    "--advertise-client-urls",
    client,
    "--listen-peer-urls",
    peer,
    "--initial-advertise-peer-urls",
    peer,
    "--initial-cluster",
    `${NAME}=${peer}`,
  ], {}); // prettier-ignore
  if (parsed.action !== "run") throw new Error(`embedded store: ${parsed.action}`);
  const log = createLogger({ logger: "capnslog", level: "info", outputs: ["stderr"] });
  const member = await startMember(parsed.config, log);
  if (typeof member === "number") throw new Error("the embedded store failed to start");
  await member.ready;
  return { endpoint: client, close: () => member.stop() };
};
