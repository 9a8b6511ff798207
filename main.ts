// The etcd-ts executable: `etcd-ts [flags]` runs a member exactly as `etcd [flags]` does;
// `etcd-ts gateway ...` and the other subcommands are dispatched by their first argument.
import {
  gatewayStartHelp,
  grpcProxyStartHelp,
  helpCommand,
  parseServerArgs,
} from "./src/config/mod.ts";
import { createLogger, type Logger } from "./src/log/mod.ts";
import type { Notice } from "./src/config/mod.ts";
import { runEtcd } from "./src/embed/mod.ts";
import { useSystemTrustStore } from "./src/tls/mod.ts";

function writeNotices(log: Logger, notices: Notice[]): void {
  for (const n of notices) {
    if (n.raw) log.raw(n.text);
    else log.log(n.level, { pkg: n.pkg, text: n.text, msg: n.msg, fields: n.fields });
  }
}

// The subcommands load when named: a member starts faster without their modules.
const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  gateway: async (args) => (await import("./src/gateway/mod.ts")).runGatewayCommand(args),
  "grpc-proxy": async (args) => (await import("./src/grpcproxy/mod.ts")).runGrpcProxyCommand(args),
  diagnose: async (args) => (await import("./src/diagnose/mod.ts")).runDiagnose(args),
  snapshot: async (args) => (await import("./src/snapshot/mod.ts")).runSnapshot(args),
  "discovery-service": async (args) => {
    const { runDiscoveryService } = await import("./src/discovery/mod.ts");
    const { startEmbeddedStore } = await import("./src/embed/mod.ts");
    return runDiscoveryService(args, startEmbeddedStore);
  },
};

/** `etcd-ts help NAME`: each subcommand's own help, one entry per subcommand with flags. */
async function help(args: string[]): Promise<number> {
  const [discovery, diagnose, snapshot] = await Promise.all([
    import("./src/discovery/mod.ts"),
    import("./src/diagnose/mod.ts"),
    import("./src/snapshot/mod.ts"),
  ]);
  const out = helpCommand(args, {
    gateway: gatewayStartHelp,
    "grpc-proxy": grpcProxyStartHelp,
    "discovery-service": () => discovery.DISCOVERY_SERVICE_USAGE,
    diagnose: () => diagnose.DIAGNOSE_USAGE,
    snapshot: () => snapshot.snapshotHelp(undefined),
  });
  const encoder = new TextEncoder();
  if (out.stdout) Deno.stdout.writeSync(encoder.encode(out.stdout));
  if (out.stderr) Deno.stderr.writeSync(encoder.encode(out.stderr));
  return out.exitCode;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "help") return await help(argv.slice(1));
  if (Object.hasOwn(SUBCOMMANDS, argv[0] ?? "")) return await SUBCOMMANDS[argv[0]](argv.slice(1));
  const outcome = await parseServerArgs(argv, Deno.env.toObject());
  switch (outcome.action) {
    case "print":
      Deno.stdout.writeSync(new TextEncoder().encode(outcome.stdout));
      return 0;
    case "fail": {
      if (!outcome.logged) {
        Deno.stderr.writeSync(new TextEncoder().encode(outcome.stderr));
        return outcome.exitCode;
      }
      const log = createLogger(outcome.logging);
      writeNotices(log, outcome.notices);
      writeNotices(log, outcome.records);
      return outcome.exitCode;
    }
    case "run": {
      const { config } = outcome;
      const log = createLogger({
        logger: config.logger,
        level: config.logLevel,
        outputs: config.logOutputs,
        packageLevels: config.logPackageLevels,
      });
      writeNotices(log, outcome.notices);
      return await runEtcd(config, log);
    }
  }
}

if (import.meta.main) {
  // Like Go, trust the OS's CA store (and SSL_CERT_FILE) for https discovery URLs and peers.
  useSystemTrustStore();
  const code = await main(Deno.args);
  if (code !== 0) Deno.exit(code);
}
