// `etcd-ts snapshot save|status|restore`: etcdctl 3.4's snapshot commands with its flags, output
// and exit codes (1 for errors, 4 for an output format a command does not print, 5 when a save
// fails, 128 for wrong arguments), on etcd's snapshot format.
import { parseInitialCluster, parseURLList } from "../config/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { EtcdDbError, restoreEtcdSnapshot } from "../server/mod.ts";
import { type FlagValues, parseSnapshotArgs } from "./flags.ts";
import type { Target } from "./grpc_client.ts";
import { snapshotHelp } from "./help.ts";
import { SaveError, saveSnapshot } from "./save.ts";
import { formatStatus, snapshotStatus, StatusError } from "./status.ts";

const EXIT_ERROR = 1;
const EXIT_BAD_FEATURE = 4;
const EXIT_INTERRUPTED = 5;
const EXIT_BAD_ARGS = 128;

export interface SnapshotIO {
  stdout(text: string): void;
  stderr(text: string): void;
  log: Logger;
}

const encoder = new TextEncoder();
const writer = (stream: { writeSync(b: Uint8Array): number }) => (text: string) => {
  const bytes = encoder.encode(text);
  for (let done = 0; done < bytes.length;) done += stream.writeSync(bytes.subarray(done));
};

/** etcdctl's save, status and restore log with zap's production logger on stderr. */
function defaultIO(): SnapshotIO {
  return {
    stdout: writer(Deno.stdout),
    stderr: writer(Deno.stderr),
    log: createLogger({ logger: "zap", level: "info", outputs: ["stderr"], zapTimestamp: "epoch" }),
  };
}

/** Runs `etcd-ts snapshot <argv>`; returns the exit status. */
export async function runSnapshot(argv: string[], io: SnapshotIO = defaultIO()): Promise<number> {
  const parsed = parseSnapshotArgs(argv);
  if ("error" in parsed) {
    io.stderr(`Error: ${parsed.error}\n`);
    return EXIT_ERROR;
  }
  if ("help" in parsed || parsed.command === undefined) {
    io.stdout(snapshotHelp("help" in parsed ? parsed.help : undefined));
    return 0;
  }
  const fail = (code: number, message: string) => {
    io.stderr(`Error: ${message}\n`);
    return code;
  };
  const { command, args, flags } = parsed;
  if (args.length !== 1) {
    const want = command === "save"
      ? "snapshot save expects one argument"
      : `snapshot ${command} requires exactly one argument`;
    return fail(EXIT_BAD_ARGS, want);
  }
  try {
    if (command === "status") {
      const out = formatStatus(snapshotStatus(args[0]), flags["write-out"] as string);
      if (out === undefined) {
        return fail(EXIT_BAD_FEATURE, `${flags["write-out"]} not supported as output format`);
      }
      io.stdout(out);
    } else if (command === "save") {
      await saveSnapshot(saveOptions(flags, parsed.set), args[0], io.log);
      io.stdout(`Snapshot saved at ${args[0]}\n`);
    } else {
      await restoreEtcdSnapshot(restoreRequest(flags, args[0]), io.log);
    }
    return 0;
  } catch (err) {
    const known = err instanceof EtcdDbError || err instanceof StatusError ||
      err instanceof SaveError || err instanceof UsageError;
    if (!known && !(err instanceof Error)) throw err;
    return fail(command === "save" ? EXIT_INTERRUPTED : EXIT_ERROR, (err as Error).message);
  }
}

class UsageError extends Error {}

function saveOptions(flags: FlagValues, set: Set<string>) {
  const endpoints = flags.endpoints as string[];
  const [name, inlinePassword] = splitUser(flags.user as string);
  const password = flags.password as string;
  if (name !== "" && inlinePassword === undefined && password === "") {
    throw new UsageError(
      `no password for user ${name}: give --password or --user ${name}:<password>`,
    );
  }
  return {
    endpoints,
    target: target(endpoints[0] ?? "", flags),
    dialTimeoutMs: flags["dial-timeout"] as number,
    commandTimeoutMs: set.has("command-timeout") ? flags["command-timeout"] as number : undefined,
    user: name === "" ? undefined : { name, password: inlinePassword ?? password },
  };
}

function splitUser(user: string): [string, string | undefined] {
  const colon = user.indexOf(":");
  return colon < 0 ? [user, undefined] : [user.slice(0, colon), user.slice(colon + 1)];
}

/** An endpoint without a scheme is dialled with TLS when any TLS flag asks for it (clientv3). */
function target(endpoint: string, flags: FlagValues): Target {
  const tlsAsked = flags.cacert !== "" || flags.cert !== "" || flags.key !== "" ||
    flags["insecure-transport"] === false;
  const secure = endpoint.startsWith("https://") || (!endpoint.includes("://") && tlsAsked);
  const hostPort = endpoint.replace(/^[a-z]+:\/\//, "");
  if (!secure) return { url: `http://${hostPort}` };
  const read = (
    f: string,
  ) => (flags[f] === "" ? undefined : Deno.readTextFileSync(flags[f] as string));
  return {
    url: `https://${hostPort}`,
    tls: {
      ca: read("cacert"),
      cert: read("cert"),
      key: read("key"),
      rejectUnauthorized: flags["insecure-skip-tls-verify"] !== true,
    },
  };
}

function restoreRequest(flags: FlagValues, snapshotPath: string) {
  const name = flags.name as string;
  const peerURLs = parseURLList((flags["initial-advertise-peer-urls"] as string).split(","));
  if ("error" in peerURLs) throw new UsageError(peerURLs.error);
  const cluster = parseInitialCluster(flags["initial-cluster"] as string);
  // etcd's restore reports types.NewURLsMap's error as it is.
  if ("error" in cluster) {
    throw new UsageError(cluster.error.replace(/^error setting up initial cluster: /, ""));
  }
  const dataDir = (flags["data-dir"] as string) || `${name}.etcd`;
  return {
    snapshotPath,
    name,
    dataDir,
    walDir: flags["wal-dir"] as string,
    cluster,
    token: flags["initial-cluster-token"] as string,
    peerURLs,
    skipHashCheck: flags["skip-hash-check"] as boolean,
  };
}
