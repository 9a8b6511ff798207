// --enable-pprof: profiles of the running member under /debug/pprof/, where etcd serves Go's
// pprof. A JavaScript runtime has V8's profiles instead, in the formats Chrome DevTools opens:
//   /debug/pprof/profile?seconds=N  a CPU profile over N seconds (default 30), .cpuprofile JSON
//   /debug/pprof/heap               a heap snapshot, .heapsnapshot JSON
//   /debug/pprof/allocs?seconds=N   a sample of the allocations made over N seconds (default
//                                   30), collected ones included, .heapprofile JSON
//   /debug/pprof/cmdline            the command line, NUL-separated, as Go's handler answers
// Go's other profiles (goroutine, block, mutex, threadcreate, trace, symbol) have no V8
// counterpart and answer 404 "Unknown profile", as Go does for a name it does not know.
import inspector from "node:inspector";
import { Readable } from "node:stream";
import v8 from "node:v8";
import type { Hono } from "hono";
import { goHttpError } from "./go_http.ts";

export const PPROF_PREFIX = "/debug/pprof";

/** Go's default profile duration. */
const DEFAULT_SECONDS = 30;

const PROFILES: { name: string; about: string }[] = [
  { name: "profile", about: "CPU profile (V8 .cpuprofile). ?seconds=N, default 30." },
  { name: "heap", about: "Heap snapshot (V8 .heapsnapshot)." },
  {
    name: "allocs",
    about: "Sampled allocations, collected or not (V8 .heapprofile). ?seconds=N, default 30.",
  },
  { name: "cmdline", about: "The command line, arguments separated by NUL bytes." },
];

export function addPprofRoutes(app: Hono): void {
  app.get(`${PPROF_PREFIX}/`, () => index());
  app.get(`${PPROF_PREFIX}/profile`, (c) => windowed(CPU, c.req.query("seconds")));
  app.get(`${PPROF_PREFIX}/heap`, () => heapSnapshot());
  app.get(`${PPROF_PREFIX}/allocs`, (c) => windowed(ALLOCS, c.req.query("seconds")));
  app.get(
    `${PPROF_PREFIX}/cmdline`,
    () =>
      new Response([Deno.execPath(), ...Deno.args].join("\0"), {
        headers: {
          "content-type": "text/plain; charset=utf-8",
          "x-content-type-options": "nosniff",
        },
      }),
  );
  app.get(`${PPROF_PREFIX}/:name`, () => goHttpError(404, "Unknown profile"));
}

function index(): Response {
  const rows = PROFILES.map((p) =>
    `<tr><td><a href="${p.name}">${p.name}</a></td><td>${p.about}</td></tr>`
  ).join("\n");
  const html = `<html><head><title>/debug/pprof/</title></head><body>
<p>Profiles of this member in V8's formats: open a .cpuprofile or .heapsnapshot in Chrome
DevTools (Performance or Memory panel, "Load profile").</p>
<table>
${rows}
</table></body></html>
`;
  return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
}

function download(body: BodyInit, file: string): Response {
  return new Response(body, {
    headers: {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${file}"`,
      "x-content-type-options": "nosniff",
    },
  });
}

/** Go's rule for ?seconds: <= 0 or unparsable means the default. */
function durationOf(seconds: string | undefined): number {
  const n = Number.parseInt(seconds ?? "", 10);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_SECONDS;
}

/** A profile the inspector takes over a window: its domain's start and stop, one at a time. */
interface WindowedProfile {
  domain: "Profiler" | "HeapProfiler";
  start: [method: string, params?: object];
  stop: string;
  file: string;
  /** Go's answer when one is already running. */
  busy: string;
  running: boolean;
}

const CPU: WindowedProfile = {
  domain: "Profiler",
  start: ["Profiler.start"],
  stop: "Profiler.stop",
  file: "profile.cpuprofile",
  busy: "Could not enable CPU profiling: cpu profiling already in use",
  running: false,
};

// V8's sampling heap profiler, keeping the samples of objects the GC has since collected: where
// the allocations that drive the GC come from.
const ALLOCS: WindowedProfile = {
  domain: "HeapProfiler",
  start: ["HeapProfiler.startSampling", {
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  }],
  stop: "HeapProfiler.stopSampling",
  file: "allocs.heapprofile",
  busy: "Could not enable allocation sampling: already in use",
  running: false,
};

/** Go's Profile handler: the profile over `seconds`, or a refusal while one runs. */
async function windowed(p: WindowedProfile, seconds: string | undefined): Promise<Response> {
  const duration = durationOf(seconds);
  if (p.running) return goHttpError(500, p.busy);
  p.running = true;
  const session = new inspector.Session();
  session.connect();
  try {
    await post(session, `${p.domain}.enable`);
    await post(session, ...p.start);
    await new Promise((resolve) => setTimeout(resolve, duration * 1000));
    const { profile } = await post(session, p.stop) as { profile: unknown };
    return download(JSON.stringify(profile), p.file);
  } finally {
    session.disconnect();
    p.running = false;
  }
}

function heapSnapshot(): Response {
  const snapshot = Readable.toWeb(v8.getHeapSnapshot()) as ReadableStream<Uint8Array>;
  return download(snapshot, "heap.heapsnapshot");
}

function post(session: inspector.Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => err ? reject(err) : resolve(result));
  });
}
