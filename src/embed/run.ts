// Runs one member from a validated Config, as etcd's embed package does: check the whole
// bootstrap configuration, open the durable state, start Raft, open the listeners, serve
// clients once the member has published itself, and shut down cleanly on SIGTERM/SIGINT.
import type { Config } from "../config/mod.ts";
import { ETCD_VERSION, VERSION } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { listenerConfigError } from "../config/mod.ts";
import {
  announceCapabilities,
  BootstrapError,
  EtcdServer,
  formatId,
  type MemberState,
  type ServerOptions,
} from "../server/mod.ts";
import { WalError } from "../storage/mod.ts";
import { openClientListeners } from "./client_listeners.ts";
import { announcePprof, openMetricsListeners } from "./metrics_listeners.ts";
import { ClusterFullError, ReportedFailure } from "./initial_cluster.ts";
import { conflictMessage, openMember } from "./member.ts";
import { openPeering, type PeerTLS } from "./peers.ts";
import { reraise, waitForSignal } from "./signals.ts";
import { discoveryFull } from "./proxy.ts";
import { loadPeerTLS } from "./peer_tls.ts";
import { serverFlags } from "./server_flags.ts";
import { authTokenOptionError } from "../auth/mod.ts";
import { startStallMonitor } from "./stall_monitor.ts";

/** etcd's default backend quota (--quota-backend-bytes 0): 2 GiB. */
const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

/** etcdmain's first lines, printed by members and proxies alike. */
export function logVersionBanner(log: Logger): void {
  const i = (text: string) => log.info({ pkg: "etcdmain", text });
  i(`etcd Version: ${ETCD_VERSION}`);
  i(`etcd-ts Version: ${VERSION}`);
  i(`Deno Version: ${Deno.version.deno}`);
  i(`Go OS/Arch: ${Deno.build.os}/${Deno.build.arch}`);
  const cpus = navigator.hardwareConcurrency;
  i(`setting maximum number of CPUs to ${cpus}, total number of available CPUs is ${cpus}`);
}

function logMemberConfig(config: Config, log: Logger, dataDir: string): void {
  const i = (text: string, pkg = "etcdmain") => log.info({ pkg, text });
  i(`name = ${config.name}`, "embed");
  i(`data dir = ${dataDir}`, "embed");
  i(`member dir = ${dataDir}/member`, "embed");
  i(`heartbeat = ${config.heartbeatInterval}ms`, "embed");
  i(`election = ${config.electionTimeout}ms`, "embed");
  i(`snapshot count = ${config.snapshotCount}`, "embed");
  i(`advertise client URLs = ${config.advertiseClientUrls.map(String).join(",")}`, "embed");
}

/** A member started in this process. */
export interface RunningMember {
  server: EtcdServer;
  /** Resolves when the member has published itself and serves clients. */
  ready: Promise<void>;
  /** Resolves if the member learns it was removed from the cluster. */
  removed: Promise<void>;
  /** Closes the listeners and stops the member cleanly. */
  stop(): Promise<void>;
}

/** Runs the member until a signal stops it; returns the exit code for start-up failures. */
export async function runMember(config: Config, log: Logger): Promise<number> {
  const member = await startMember(config, log);
  if (typeof member === "number") return member;
  const reason = await Promise.race([
    waitForSignal(log),
    member.removed.then(() => "removed" as const),
  ]);
  await member.stop();
  // A removed member exits normally, as etcd does; a signal is re-raised.
  return reason === "removed" ? 0 : reraise(reason);
}

/** Starts a member (also inside another command); a number is the exit code of a failure. */
export async function startMember(config: Config, log: Logger): Promise<RunningMember | number> {
  logMemberConfig(config, log, config.dataDir);
  const fatal = (text: string): never =>
    log.fatal({ pkg: "etcdmain", text, msg: "discovery failed", fields: { error: text } });

  // Peer TLS first: joining and bootstrap checks already talk to peers.
  const peerTLS = await loadPeerTLS(config, log);
  const state = await openState(config, log, peerTLS, fatal);
  if (typeof state === "number") return state;
  // Certificates and listen addresses are checked once the bootstrap is known to be sound, so
  // the guide's error cases print their own message first (spec/README.md).
  const listenerError = listenerConfigError(config);
  if (listenerError) return fatal(listenerError);
  const tokenError = authTokenOptionError(config.authToken, log);
  if (tokenError) return fatal(tokenError);

  const started: { server?: EtcdServer } = {};
  const peering = await openPeering(config, log, state, {
    // A newcomer that never saw a leader of its own cluster is the misconfigured one: it exits.
    // A member that has had a leader only logs (the peer transport does).
    clusterIdMismatch: (_peer, remote) => {
      if (state.isNew && (started.server?.leaderChanges ?? 0) === 0) {
        fatal(conflictMessage(state.membership.clusterId, remote));
      }
    },
  }, peerTLS);
  const server = started.server = new EtcdServer(
    serverOptions(config, log, state),
    peering.transport,
  );
  peering.attach(server);
  logServerStart(log, state);

  // etcd checks a restarted member's data against its peers' before it serves anything.
  if (!state.isNew && config.experimentalInitialCorruptCheck) {
    const inconsistent = await server.checkInitialHashKV();
    if (inconsistent) return fatal(inconsistent);
  }
  announcePprof(config, log);
  const listeners = [
    ...await openClientListeners(config, server, log),
    ...await openMetricsListeners(config, server, log),
  ];
  server.start();
  const stopStallMonitor = startStallMonitor();
  const ready = server.ready().then(() => {
    log.info({ pkg: "embed", text: "ready to serve client requests" });
    for (const l of listeners) l.announce();
  });
  return {
    server,
    ready,
    removed: new Promise((resolve) => server.onRemoved(resolve)),
    stop: async () => {
      stopStallMonitor();
      await Promise.all(listeners.map((l) => l.close()));
      await server.stop();
      await peering.close();
    },
  };
}

/** The member's durable state, or the exit code of a bootstrap failure already reported. */
async function openState(
  config: Config,
  log: Logger,
  peerTLS: PeerTLS,
  fatal: (text: string) => never,
): Promise<MemberState | number> {
  try {
    return await openMember(config, log, peerTLS.client);
  } catch (err) {
    if (err instanceof ReportedFailure) return 1;
    if (err instanceof ClusterFullError) return await discoveryFull(config, log, err);
    if (err instanceof BootstrapError || err instanceof WalError) return fatal(err.message);
    throw err;
  }
}

/** etcd's ServerConfig, from the flags. */
function serverOptions(config: Config, log: Logger, state: MemberState): ServerOptions {
  return {
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
    authTokenTtl: config.authTokenTtl,
    authToken: config.authToken,
    clientCertAuth: config.clientTLS.clientCertAuth,
    quotaBackendBytes: config.quotaBackendBytes === 0
      ? DEFAULT_QUOTA_BYTES
      : config.quotaBackendBytes,
    backendBatchIntervalMs: config.backendBatchInterval,
    backendBatchLimit: config.backendBatchLimit,
    bcryptCost: config.bcryptCost,
    ...serverFlags(config),
    leaseCheckpoint: config.experimentalEnableLeaseCheckpoint
      ? {
        persist: config.experimentalEnableLeaseCheckpointPersist,
        intervalMs: config.leaseCheckpointIntervalMs,
      }
      : undefined,
  };
}

/** etcdserver's start line; the cluster version, once decided, also names its capabilities. */
function logServerStart(log: Logger, state: MemberState): void {
  const version = state.membership.version.split(".").slice(0, 2).join(".");
  log.info({
    pkg: "etcdserver",
    text: `starting server... [version: ${ETCD_VERSION}, cluster version: ${
      version || "to_be_decided"
    }]`,
    msg: "starting etcd server",
    fields: { "local-member-id": formatId(state.memberId) },
  });
  if (version) announceCapabilities(log, version);
}
