// The member's failpoints, from gofail's variables (read once per process): GOFAIL_FAILPOINTS
// sets them at start, GOFAIL_HTTP serves the endpoint that changes them while it runs.
import { enableFromEnv, list, serveFailpoints } from "../failpoint/mod.ts";
import type { Logger } from "../log/mod.ts";

let read = false;

/** Sets what GOFAIL_FAILPOINTS lists; a malformed list stops the start (exit 1). */
export function enableFailpoints(log: Logger): void {
  if (read) return;
  read = true;
  const error = enableFromEnv(Deno.env.get("GOFAIL_FAILPOINTS"));
  if (error) log.fatal({ pkg: "etcdmain", text: error });
  const set = list();
  if (set.length > 0) {
    log.warn({
      pkg: "etcdserver",
      text: `failpoints set: ${set.join(";")}`,
      msg: "failpoints set",
      fields: { failpoints: set },
    });
  }
  const http = Deno.env.get("GOFAIL_HTTP");
  if (!http) return;
  serveFailpoints(http).then(
    (s) => log.info({ pkg: "etcdserver", text: `serving failpoints on port ${s.port}` }),
    (err) => log.fatal({ pkg: "etcdmain", text: `GOFAIL_HTTP ${http}: ${err.message}` }),
  );
}
