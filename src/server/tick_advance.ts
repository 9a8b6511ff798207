// etcd's adjustTicks: a member need not sit through a whole election timeout after it starts.
// A lone voter has nobody to wait for and skips all but one election tick (always, whatever
// --initial-election-tick-advance says). With peers, and the flag on (the default), once its
// connections to more than one peer are up it skips all but two ticks: a leader, if there is
// one, has had time to make itself heard. etcd gives up waiting for peers after 5 seconds.
import type { Logger } from "../log/mod.ts";
import type { RawNode } from "../raft/mod.ts";
import { formatGoDuration } from "../config/mod.ts";
import { formatId } from "./ids.ts";
import type { Membership } from "./membership.ts";
import type { Transport } from "./raft_driver.ts";

/** rafthttp.ConnReadTimeout: how long etcd waits for peer connections, polling every 50 ms. */
const WAIT_PEERS_MS = 5000;
const POLL_MS = 50;

export interface TickAdvanceDeps {
  log: Logger;
  memberId: bigint;
  node: RawNode;
  /** Raft has something to do (after the ticks). */
  kick(): void;
  membership: Membership;
  transport: Transport;
  heartbeatMs: number;
  electionMs: number;
  initialElectionTickAdvance: boolean;
  stopped(): boolean;
}

/** Remote members this member has a working connection to (etcd's ActivePeers). */
function activePeers(d: TickAdvanceDeps): number {
  return d.membership.list()
    .filter((m) => m.id !== d.memberId && d.transport.activeSince(m.id) > 0).length;
}

function advance(d: TickAdvanceDeps, ticks: number): void {
  for (let i = 0; i < ticks; i++) d.node.tick();
  d.kick();
}

export async function adjustTicks(d: TickAdvanceDeps): Promise<void> {
  // The voters raft starts with: the bootstrap's, or the newest snapshot's.
  const voters = d.node.status().config.voters;
  const id = formatId(d.memberId);
  const electionTicks = Math.floor(d.electionMs / d.heartbeatMs);
  const durations = (ticks: number) => ({
    "forward-duration": formatGoDuration(ticks * d.heartbeatMs),
    "election-ticks": electionTicks,
    "election-timeout": formatGoDuration(electionTicks * d.heartbeatMs),
  });
  if (voters.length === 1 && voters[0] === d.memberId) {
    const ticks = electionTicks - 1;
    d.log.info({
      pkg: "etcdserver",
      text:
        `${id} as single-node; fast-forwarding ${ticks} ticks (election ticks ${electionTicks})`,
      msg: "started as single-node; fast-forwarding election ticks",
      fields: { "local-member-id": id, "forward-ticks": ticks, ...durations(ticks) },
    });
    advance(d, ticks);
    return;
  }
  const zapOnly = { pkg: "etcdserver", only: "zap" as const };
  const fields = { "election-ticks": electionTicks };
  if (!d.initialElectionTickAdvance) {
    d.log.info({ ...zapOnly, text: "skipping initial election tick advance", fields });
    return;
  }
  d.log.info({ ...zapOnly, text: "starting initial election tick advance", fields });
  for (let waited = 0; waited < WAIT_PEERS_MS; waited += POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (d.stopped()) return;
    const peers = activePeers(d);
    if (peers <= 1) continue;
    const ticks = electionTicks - 2;
    d.log.info({
      pkg: "etcdserver",
      text:
        `${id} initialized peer connection; fast-forwarding ${ticks} ticks (election ticks ${electionTicks}) with ${peers} active peer(s)`,
      msg: "initialized peer connections; fast-forwarding election ticks",
      fields: {
        "local-member-id": id,
        "forward-ticks": ticks,
        ...durations(ticks),
        "active-remote-members": peers,
      },
    });
    advance(d, ticks);
    return;
  }
}
