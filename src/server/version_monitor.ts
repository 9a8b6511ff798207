// etcd's monitorVersions: the leader, when its first entry of a term is committed and every few
// seconds after, asks each member's /version and proposes the cluster version decided from
// the answers (cluster_version.ts), as a v2 PUT of /0/version like etcd 3.4.
import { ETCD_VERSION } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  decideClusterVersion,
  nextClusterVersion,
  NOT_DECIDED,
  shortVersion,
  type Versions,
} from "./cluster_version.ts";
import { formatId } from "./ids.ts";
import type { Membership } from "./membership.ts";

/** etcd's monitorVersionInterval: rafthttp's write timeout less a second. */
export const MONITOR_VERSION_INTERVAL_MS = 4000;

export interface VersionMonitorDeps {
  log: Logger;
  memberId: bigint;
  membership: Membership;
  isLeader(): boolean;
  /** A member's /version through its peer URLs; undefined when none answers. */
  peerVersion(peerURLs: string[]): Promise<Versions | undefined>;
  proposeVersion(version: string): Promise<void>;
}

export class VersionMonitor {
  #timer?: ReturnType<typeof setInterval>;
  #checking = false;

  constructor(readonly deps: VersionMonitorDeps) {}

  start(): void {
    this.#timer ??= setInterval(() => void this.check(), MONITOR_VERSION_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round: on the leader, the versions asked and the cluster version moved up if due. */
  async check(): Promise<void> {
    const { isLeader, membership } = this.deps;
    if (!isLeader() || this.#checking) return;
    this.#checking = true;
    try {
      const decided = decideClusterVersion(await this.#versions(), this.deps.log);
      const next = nextClusterVersion(membership.version, decided);
      if (next && isLeader()) await this.#update(next);
    } finally {
      this.#checking = false;
    }
  }

  // etcd's getVersions: this member answers for itself, the others over their peer URLs.
  async #versions(): Promise<Map<string, Versions | undefined>> {
    const { membership, memberId, peerVersion } = this.deps;
    const own = { etcdserver: ETCD_VERSION, etcdcluster: membership.version || NOT_DECIDED };
    const members = membership.list();
    const answers = await Promise.all(
      members.map((m) => m.id === memberId ? own : peerVersion(m.peerURLs)),
    );
    return new Map(members.map((m, i) => {
      if (!answers[i]) warnNoVersion(this.deps.log, formatId(m.id));
      return [formatId(m.id), answers[i]];
    }));
  }

  async #update(version: string): Promise<void> {
    const current = this.deps.membership.version;
    this.deps.log.info({
      pkg: "etcdserver",
      text: current === ""
        ? `setting up the initial cluster version to ${shortVersion(version)}`
        : `updating the cluster version from ${shortVersion(current)} to ${shortVersion(version)}`,
    });
    await this.deps.proposeVersion(version).catch(() => {});
  }
}

/** etcd's getVersions when a member's /version cannot be had on any of its peer URLs. */
export function warnNoVersion(log: Logger, memberId: string): void {
  log.warn({
    pkg: "etcdserver",
    text: `cannot get the version of member ${memberId} (no peer URL answered /version)`,
    msg: "failed to get version",
    fields: { "remote-member-id": memberId },
  });
}
