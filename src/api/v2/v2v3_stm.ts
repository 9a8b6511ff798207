// clientv3/concurrency's serializable STM, as etcd's v2v3 store runs its writes: reads pin the
// revision of the first one, writes are buffered, and one txn commits them if nothing read or
// written changed meanwhile (else the whole function runs again). What was written before the
// function gave up with an error code is committed all the same, as etcd's STM does.
import { Compare_CompareResult as Result, Compare_CompareTarget as Target } from "../../pb/mod.ts";
import type { KvApi } from "../../server/mod.ts";
import { bytes } from "./v2v3_layout.ts";

type TxnRequest = Parameters<KvApi["txn"]>[0];
type TxnResponse = Awaited<ReturnType<KvApi["txn"]>>;
type RequestOp = NonNullable<TxnRequest["success"]>[number];

export interface Stm {
  /** The key's mod revision as of the first read (0: absent). */
  rev(key: string): Promise<number>;
  put(key: string, value: string, prevKv?: boolean): void;
}

/** Runs `apply` until its txn commits; the txn's answer and the code `apply` returned. */
export async function runStm(
  kv: Pick<KvApi, "range" | "txn">,
  apply: (stm: Stm) => Promise<number | undefined>,
): Promise<{ resp: TxnResponse; code?: number }> {
  for (;;) {
    const reads = new Map<string, number>();
    const writes = new Map<string, RequestOp>();
    let base = 0;
    const stm: Stm = {
      async rev(key) {
        const known = reads.get(key);
        if (known !== undefined) return known;
        const r = await kv.range(
          base === 0
            ? { key: bytes(key) }
            : { key: bytes(key), revision: base, serializable: true },
        );
        if (base === 0) base = r.header.revision;
        const rev = r.kvs[0]?.modRevision ?? 0;
        reads.set(key, rev);
        return rev;
      },
      put(key, value, prevKv = false) {
        writes.set(key, { requestPut: { key: bytes(key), value: bytes(value), prevKv } });
      },
    };
    const code = await apply(stm);
    const compare = [
      ...[...reads].map(([key, modRevision]) => ({
        key: bytes(key),
        target: Target.MOD,
        result: Result.EQUAL,
        modRevision,
      })),
      ...[...writes.keys()].map((key) => ({
        key: bytes(key),
        target: Target.MOD,
        result: Result.LESS,
        modRevision: base + 1,
      })),
    ];
    const resp = await kv.txn({ compare, success: [...writes.values()] });
    if (resp.succeeded) return { resp, code };
  }
}
