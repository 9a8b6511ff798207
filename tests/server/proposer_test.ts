import * as assert from "node:assert/strict";
import { Proposer, type ProposerDeps } from "../../src/server/proposer.ts";
import { decodeProposal } from "../../src/server/proposal.ts";
import { ErrProposalDropped, type RawNode } from "../../src/raft/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A proposer over a node that records each MsgProp's entries, with kicks awaitable. */
function setup(opts: { leader?: () => bigint; drop?: () => boolean } = {}) {
  const msgProps: string[][] = [];
  let kicked: (() => void) | undefined;
  const node = {
    proposeAll(data: Uint8Array[]) {
      if (opts.drop?.()) throw ErrProposalDropped;
      msgProps.push(data.map((d) => {
        const p = decodeProposal(d);
        return p.kind === "put" ? dec.decode(p.request.key) : p.kind;
      }));
    },
  } as unknown as RawNode;
  const deps: ProposerDeps = {
    node,
    kick: () => kicked?.(),
    memberId: 1n,
    leader: opts.leader ?? (() => 1n),
    commitIndex: () => 0,
    appliedIndex: () => 0,
    stopped: () => false,
    heartbeatMs: 5,
    requestTimeoutMs: 1000,
    maxRequestBytes: 1.5 * 1024 * 1024,
    now: () => 0,
    fatal: (_stage, err) => {
      throw err;
    },
  };
  const proposer = new Proposer(deps);
  const nextKick = () => new Promise<void>((r) => (kicked = r));
  const put = (key: string, size = 1) => {
    const value = new Uint8Array(size);
    const request = { key: enc.encode(key), value, lease: 0n, prevKv: false };
    return proposer.propose("put", { ...request, ignoreValue: false, ignoreLease: false });
  };
  return { proposer, msgProps, nextKick, put };
}

Deno.test("Proposer: proposals queued before a Ready go to raft as one MsgProp, in order", async () => {
  const { proposer, msgProps, put } = setup();
  const pending = ["a", "b", "c"].map((k) => put(k));
  assert.deepEqual(msgProps, [], "nothing reaches raft before the driver asks");
  proposer.stepQueued();
  assert.deepEqual(msgProps, [["a", "b", "c"]]);
  proposer.stepQueued();
  assert.equal(msgProps.length, 1, "each proposal is stepped once");
  proposer.failAll(new Error("stopped"));
  await Promise.allSettled(pending);
});

Deno.test("Proposer: a batch is split so that one MsgProp holds at most 1 MiB of entries", async () => {
  const { proposer, msgProps, put } = setup();
  const pending = ["a", "b", "c"].map((k) => put(k, 400 * 1024));
  proposer.stepQueued();
  assert.deepEqual(msgProps, [["a", "b"], ["c"]]);
  proposer.failAll(new Error("stopped"));
  await Promise.allSettled(pending);
});

Deno.test("Proposer: without a leader, or dropped by raft, proposals are tried again later", async () => {
  let leader = 0n;
  let drop = false;
  const { proposer, msgProps, nextKick, put } = setup({ leader: () => leader, drop: () => drop });
  const pending = [put("a"), put("b")];
  let kick = nextKick();
  proposer.stepQueued();
  assert.deepEqual(msgProps, []);
  leader = 1n;
  drop = true;
  await kick; // the retry a heartbeat later
  kick = nextKick();
  proposer.stepQueued();
  assert.deepEqual(msgProps, []);
  drop = false;
  await kick;
  proposer.stepQueued();
  assert.deepEqual(msgProps, [["a", "b"]]);
  proposer.failAll(new Error("stopped"));
  await Promise.allSettled(pending);
});

Deno.test("Proposer: a proposal whose caller stopped waiting is not stepped", async () => {
  const { proposer, msgProps } = setup();
  const gone = new AbortController();
  const req = { key: enc.encode("x"), value: new Uint8Array(1), lease: 0n, prevKv: false };
  const pending = proposer.propose("put", { ...req, ignoreValue: false, ignoreLease: false }, {
    signal: gone.signal,
  });
  gone.abort();
  await assert.rejects(pending);
  proposer.stepQueued();
  assert.deepEqual(msgProps, []);
});
