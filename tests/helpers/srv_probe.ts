// Run inside a test namespace: performs the SRV calls given as JSON on stdin and prints one JSON
// result per call ({ value } or { error, kind }), so the test can assert on what a member or
// the gateway would see through the system resolver.
import { srvClientEndpoints, SrvError, srvServerCluster } from "../../src/discovery/srv.ts";

export type ProbeCall =
  | {
    fn: "server";
    domain: string;
    srvName?: string;
    name: string;
    advertisePeerUrls: string[];
    requireLocalMember?: boolean;
    /** A constant in place of Math.random, for a predictable weighted order. */
    random?: number;
  }
  | { fn: "client"; domain: string; srvName?: string; random?: number };

export type ProbeResult = { value: unknown } | { error: string; kind?: string };

async function call(c: ProbeCall): Promise<ProbeResult> {
  const random = c.random === undefined ? undefined : () => c.random!;
  try {
    if (c.fn === "client") {
      return { value: await srvClientEndpoints(c.domain, c.srvName ?? "", { random }) };
    }
    return {
      value: await srvServerCluster(c.domain, c.srvName ?? "", {
        name: c.name,
        advertisePeerUrls: c.advertisePeerUrls,
        requireLocalMember: c.requireLocalMember,
        random,
      }),
    };
  } catch (err) {
    return { error: (err as Error).message, kind: err instanceof SrvError ? err.kind : undefined };
  }
}

const calls: ProbeCall[] = JSON.parse(await new Response(Deno.stdin.readable).text());
const results: ProbeResult[] = [];
for (const c of calls) results.push(await call(c));
console.log(JSON.stringify(results));
