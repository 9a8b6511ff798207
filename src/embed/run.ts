// Runs one member from a validated Config, as etcd's embed package does: check the whole
// bootstrap configuration, open the durable state, start Raft, open the listeners, serve
// clients once the member has published itself, and shut down cleanly on SIGTERM/SIGINT.
import type { Config } from "../config/mod.ts";
import { ETCD_VERSION, VERSION } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  announceCapabilities,
  BootstrapError,
  bootstrapMember,
  checkInitialCluster,
  EtcdServer,
  formatId,
  isInitialized,
  memberPaths,
  restartMember,
  V2Api,
} from "../server/mod.ts";
import { openClientListeners } from "./client_listeners.ts";
import { WalError } from "../storage/mod.ts";

/** etcd's default backend quota (--quota-backend-bytes 0): 2 GiB. */
const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

function logBanner(config: Config, log: Logger, dataDir: string): void {
  const i = (text: string, pkg = "etcdmain") => log.info({ pkg, text });
  i(`etcd Version: ${ETCD_VERSION}`);
  i(`etcd-ts Version: ${VERSION}`);
  i(`Deno Version: ${Deno.version.deno}`);
  i(`Go OS/Arch: ${Deno.build.os}/${Deno.build.arch}`);
  const cpus = navigator.hardwareConcurrency;
  i(`setting maximum number of CPUs to ${cpus}, total number of available CPUs is ${cpus}`);
  i(`name = ${config.name}`, "embed");
  i(`data dir = ${dataDir}`, "embed");
  i(`member dir = ${dataDir}/member`, "embed");
  i(`heartbeat = ${config.heartbeatInterval}ms`, "embed");
  i(`election = ${config.electionTimeout}ms`, "embed");
  i(`snapshot count = ${config.snapshotCount}`, "embed");
  i(`advertise client URLs = ${config.advertiseClientUrls.map(String).join(",")}`, "embed");
}

/** Runs the member until a signal stops it; returns the exit code for start-up failures. */
export async function runMember(config: Config, log: Logger): Promise<number> {
  const dataDir = config.dataDir;
  const paths = memberPaths(dataDir, config.walDir);
  logBanner(config, log, dataDir);
  const timing = {
    heartbeatMs: config.heartbeatInterval,
    electionMs: config.electionTimeout,
    preVote: config.preVote,
  };
  const peerURLs = config.initialAdvertisePeerUrls.map(String);
  let state;
  try {
    if (isInitialized(paths)) {
      state = await restartMember(paths, timing, log);
    } else {
      if (config.initialClusterError) throw new BootstrapError(config.initialClusterError);
      const initial = checkInitialCluster(
        "etcd-ts",
        config.name,
        peerURLs,
        config.initialCluster,
        config.initialClusterToken,
      );
      state = await bootstrapMember(
        paths,
        timing,
        log,
        initial.members,
        initial.localId,
        initial.clusterId,
      );
    }
  } catch (err) {
    if (err instanceof BootstrapError || err instanceof WalError || err instanceof Error) {
      log.fatal({
        pkg: "etcdmain",
        text: err.message,
        msg: "discovery failed",
        fields: { error: err.message },
      });
    }
    throw err;
  }

  const server = new EtcdServer({
    logger: log,
    state,
    name: config.name,
    clientURLs: config.advertiseClientUrls.map(String),
    heartbeatMs: config.heartbeatInterval,
    electionMs: config.electionTimeout,
    snapshotCount: config.snapshotCount,
    strictReconfigCheck: config.strictReconfigCheck,
    maxTxnOps: config.maxTxnOps,
    maxRequestBytes: config.maxRequestBytes,
    quotaBackendBytes: config.quotaBackendBytes === 0
      ? DEFAULT_QUOTA_BYTES
      : config.quotaBackendBytes,
  }, { send: () => {} });
  log.info({
    pkg: "etcdserver",
    text: `starting server... [version: ${ETCD_VERSION}, cluster version: ${
      state.membership.version
        ? state.membership.version.split(".").slice(0, 2).join(".")
        : "to_be_decided"
    }]`,
    msg: "starting etcd server",
    fields: { "local-member-id": formatId(state.memberId) },
  });
  if (state.membership.version) {
    announceCapabilities(server, state.membership.version.split(".").slice(0, 2).join("."));
  }

  const listeners = await openClientListeners(config, server, log);
  server.start();
  // Every member runs it; only the leader proposes v2 TTL expiry.
  V2Api.of(server).start();
  await server.ready();
  log.info({ pkg: "embed", text: "ready to serve client requests" });
  for (const l of listeners) l.announce();

  const signal = await waitForSignal(log);
  await Promise.all(listeners.map((l) => l.close()));
  V2Api.of(server).stop();
  await server.stop();
  return reraise(signal);
}

type StopSignal = "SIGTERM" | "SIGINT";

/** Waits for SIGTERM or SIGINT and stops listening for them, so a re-raise takes effect. */
function waitForSignal(log: Logger): Promise<StopSignal> {
  return new Promise((resolve) => {
    const listeners = new Map<StopSignal, () => void>();
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      listeners.set(sig, () => {
        for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
        const name = sig === "SIGTERM" ? "terminated" : "interrupt";
        log.notice({
          pkg: "etcdmain",
          text: `received ${name} signal, shutting down...`,
          msg: "received signal; shutting down",
          fields: { signal: name },
        });
        resolve(sig);
      });
      Deno.addSignalListener(sig, listeners.get(sig)!);
    }
  });
}

/**
 * etcd exits "killed by the signal" after a clean shutdown (shell status 143/130), or 0 as
 * PID 1. The re-raised signal's default action ends the process; the exit code is the fallback
 * should the runtime keep the signal handled.
 */
async function reraise(signal: StopSignal): Promise<number> {
  if (Deno.pid === 1) return 0;
  Deno.kill(Deno.pid, signal);
  await new Promise((r) => setTimeout(r, 100));
  return signal === "SIGTERM" ? 143 : 130;
}
