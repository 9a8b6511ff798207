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
import { startEmbeddedStore } from "./src/embed/mod.ts";
import { runGatewayCommand } from "./src/gateway/mod.ts";
import { runGrpcProxyCommand } from "./src/grpcproxy/mod.ts";
import { DIAGNOSE_USAGE, runDiagnose } from "./src/diagnose/mod.ts";
import { DISCOVERY_SERVICE_USAGE, runDiscoveryService } from "./src/discovery/mod.ts";
import { runSnapshot, snapshotHelp } from "./src/snapshot/mod.ts";
import { useSystemTrustStore } from "./src/tls/mod.ts";

function writeNotices(log: Logger, notices: Notice[]): void {
  for (const n of notices) {
    if (n.raw) log.raw(n.text);
    else log.log(n.level, { pkg: n.pkg, text: n.text, msg: n.msg, fields: n.fields });
  }
}

/** `etcd-ts help NAME`: each subcommand's own help, one entry per subcommand with flags. */
const SUBCOMMAND_HELP: Record<string, () => string> = {
  gateway: gatewayStartHelp,
  "grpc-proxy": grpcProxyStartHelp,
  "discovery-service": () => DISCOVERY_SERVICE_USAGE,
  diagnose: () => DIAGNOSE_USAGE,
  snapshot: () => snapshotHelp(undefined),
};

function help(args: string[]): number {
  const out = helpCommand(args, SUBCOMMAND_HELP);
  const encoder = new TextEncoder();
  if (out.stdout) Deno.stdout.writeSync(encoder.encode(out.stdout));
  if (out.stderr) Deno.stderr.writeSync(encoder.encode(out.stderr));
  return out.exitCode;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "help") return help(argv.slice(1));
  if (argv[0] === "gateway") return await runGatewayCommand(argv.slice(1));
  if (argv[0] === "grpc-proxy") return await runGrpcProxyCommand(argv.slice(1));
  if (argv[0] === "diagnose") return await runDiagnose(argv.slice(1));
  if (argv[0] === "snapshot") return await runSnapshot(argv.slice(1));
  if (argv[0] === "discovery-service") {
    return await runDiscoveryService(argv.slice(1), startEmbeddedStore);
  }
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
