// The end of a run, once the faults are healed and the clients stopped: leases the model
// cannot see expire are revoked or left to expire, one linearizable read fixes the final
// revision, and then every member is read on its own (serializable: its own store, its hash,
// its whole event log from the start of the run) for the checks that compare members.

import { messages } from "../../../src/pb/mod.ts";
import { sleep } from "../../helpers/wait.ts";
import type { MemberRead, Operation, Request, WatchRecord } from "../mod.ts";
import { rangeMessage } from "./codec.ts";
import { type Endpoint, Session } from "./session.ts";
import type { Traffic } from "./traffic.ts";
import { Watcher } from "./watchers.ts";

const WAIT_MS = 60_000;

export interface MemberHash {
  member: number;
  revision: number;
  hash: number;
}

export interface Final {
  revision: number;
  /** Short leases seen gone (LeaseTimeToLive -1) on the cluster. */
  expired: number[];
  reads: MemberRead[];
  hashes: MemberHash[];
  logs: WatchRecord[];
  /** What could not be done (a member that never caught up, ...). */
  problems: string[];
}

/** Performs `request` as `client` until it gets an answer, on any member; records every try. */
async function settle(
  t: Traffic,
  s: Session,
  client: number,
  request: Request,
): Promise<Operation> {
  const deadline = performance.now() + WAIT_MS;
  while (performance.now() < deadline) {
    const op = await s.perform(client, request);
    if (op) t.record(op);
    if (op && op.outcome.status !== "unknown") return op;
    await sleep(200);
  }
  throw new Error(`no answer to ${JSON.stringify(request)} within ${WAIT_MS} ms`);
}

export async function finish(
  t: Traffic,
  endpoints: Endpoint[],
  client: number,
  from: number,
): Promise<Final> {
  const s = new Session(endpoints, 0, 5_000);
  const problems: string[] = [];
  for (const id of [...t.leases]) await settle(t, s, client, { type: "leaseRevoke", id });
  const expired = await awaitExpiry(t, s, problems);
  const last = await settle(t, s, client, { type: "range", ...t.range });
  if (last.outcome.status !== "ok") throw new Error("the final read failed");
  const revision = last.outcome.revision;
  const reads: MemberRead[] = [], hashes: MemberHash[] = [];
  await Promise.all(endpoints.map(async (_, i) => {
    const own = new Session([endpoints[i]], 0, 5_000);
    try {
      await caughtUp(own, revision);
      const read = await settle(t, own, client, { type: "range", ...t.range, serializable: true });
      if (read.outcome.status === "ok" && read.outcome.result.type === "range") {
        reads.push({ member: `m${i}`, kvs: read.outcome.result.kvs });
      }
      hashes.push({ member: i, revision, hash: await hashKv(own, revision) });
    } catch (err) {
      problems.push(`member m${i}: ${(err as Error).message}`);
    } finally {
      own.close();
    }
  }));
  const logs = await memberLogs(t, endpoints, from, revision, problems);
  s.close();
  return { revision, expired, reads, hashes, logs, problems };
}

/** Waits until no short lease exists any more; returns those seen gone. */
async function awaitExpiry(t: Traffic, s: Session, problems: string[]): Promise<number[]> {
  const gone: number[] = [];
  const deadline = performance.now() + WAIT_MS;
  for (const grant of t.shortLeases) {
    if (grant.request.type !== "leaseGrant") continue;
    const ID = BigInt(grant.request.id);
    const message = messages["etcdserverpb.LeaseTimeToLiveRequest"].encode({ ID });
    for (;;) {
      try {
        const res = messages["etcdserverpb.LeaseTimeToLiveResponse"].decode(
          await s.unary("/etcdserverpb.Lease/LeaseTimeToLive", message),
        );
        if (res.TTL === -1) {
          gone.push(grant.request.id);
          break;
        }
      } catch {
        // this member cannot say: the session moved on to the next
      }
      if (performance.now() > deadline) {
        problems.push(`lease ${grant.request.id} still exists ${WAIT_MS} ms after the traffic`);
        break;
      }
      await sleep(250);
    }
  }
  return gone;
}

/** Waits until the member's own store has reached `revision`. */
async function caughtUp(s: Session, revision: number): Promise<void> {
  const message = messages["etcdserverpb.RangeRequest"].encode(
    rangeMessage({ type: "range", key: "\0", serializable: true, countOnly: true }),
  );
  const deadline = performance.now() + WAIT_MS;
  for (;;) {
    try {
      const res = messages["etcdserverpb.RangeResponse"].decode(
        await s.unary("/etcdserverpb.KV/Range", message),
      );
      if (res.header!.revision >= revision) return;
    } catch {
      // not serving yet
    }
    if (performance.now() > deadline) throw new Error(`never reached revision ${revision}`);
    await sleep(200);
  }
}

async function hashKv(s: Session, revision: number): Promise<number> {
  const res = messages["etcdserverpb.HashKVResponse"].decode(
    await s.unary(
      "/etcdserverpb.Maintenance/HashKV",
      messages["etcdserverpb.HashKVRequest"].encode({ revision }),
    ),
  );
  return res.hash;
}

/** Each member's events of the run's keys, from `from` to `to`, with prev_kv. */
async function memberLogs(
  t: Traffic,
  endpoints: Endpoint[],
  from: number,
  to: number,
  problems: string[],
): Promise<WatchRecord[]> {
  const watchers = endpoints.map((e, i) => {
    const w = new Watcher(2000 + i, new Session([e], 0, 5_000), {
      ...t.range,
      prevKv: true,
      startRevision: from,
    }, t.random);
    w.finish(to);
    return w;
  });
  await Promise.all(watchers.map((w) => w.run()));
  watchers.forEach((w, i) => {
    if (w.stuck) problems.push(`member m${i}'s event log: ${w.stuck}`);
    w.session.close();
  });
  return watchers.flatMap((w) => w.records);
}
