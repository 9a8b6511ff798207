// Usage and help texts (our own wording; the command list and flag defaults follow etcd's).
import { FLAGS, GROUP_ORDER } from "./flags.ts";

/** A subcommand of the executable: how it is called and what it does, in one line. */
export interface Subcommand {
  name: string;
  usage: string;
  summary: string;
}

/** Every subcommand, in the order --help lists them. */
export const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: "gateway",
    usage: "etcd-ts gateway start [flags]",
    summary: "Run the stateless TCP forwarding gateway in front of a cluster's client URLs.",
  },
  {
    name: "grpc-proxy",
    usage: "etcd-ts grpc-proxy start [flags]",
    summary: "Run etcd's stateless gRPC reverse proxy in front of a cluster.",
  },
  {
    name: "discovery-service",
    usage: "etcd-ts discovery-service [flags]",
    summary: "Run a discovery service like discovery.etcd.io (GET /new?size=N).",
  },
  {
    name: "diagnose",
    usage: "etcd-ts diagnose srv DOMAIN [--discovery-srv-name NAME] [member flags]",
    summary:
      "Explain a member's DNS SRV bootstrap: records, matched target, certificate SANs, fixes.",
  },
  {
    name: "snapshot",
    usage: "etcd-ts snapshot COMMAND [flags]",
    summary: "Save, check and restore v3 backend snapshots.",
  },
  {
    name: "help",
    usage: "etcd-ts help [SUBCOMMAND]",
    summary: "Print this help, or the flags of one subcommand.",
  },
];

export const USAGE = `Usage:

  etcd-ts [flags]
    Run an etcd member (or a v2 proxy with --proxy).

  etcd-ts --version
    Print the version and exit.

  etcd-ts -h | --help
    Print this help and exit.

  etcd-ts --config-file <file>
    Read the whole server configuration from a YAML file; other flags and ETCD_* variables are then ignored.
${SUBCOMMANDS.map((c) => `\n  ${c.usage}\n    ${c.summary}\n`).join("")}`;

function flagLines(): string {
  const out: string[] = [];
  for (const group of GROUP_ORDER) {
    const specs = FLAGS.filter((f) => f.group === group && !f.hidden);
    if (specs.length === 0) continue;
    out.push("", `${group}:`);
    for (const f of specs) {
      const shown = f.shownDefault ?? f.default;
      out.push(`  --${f.name} '${shown}'`, `    ${f.help}`);
    }
  }
  out.push(
    "",
    "Every flag can also be set with an environment variable: ETCD_ + the flag name in upper case",
    "with '-' as '_' (--initial-cluster-token -> ETCD_INITIAL_CLUSTER_TOKEN). A flag given on the",
    "command line and its variable must not both be set.",
    "",
  );
  return out.join("\n");
}

/** What `--help` prints on stdout. */
export function helpText(): string {
  return USAGE + flagLines();
}

/** What `etcd-ts help [SUBCOMMAND]` prints, and where, and its exit code. */
export interface HelpOutcome {
  stdout?: string;
  stderr?: string;
  exitCode: number;
}

/**
 * `etcd-ts help [SUBCOMMAND]`: the member's help, or a subcommand's own help text from `flags`
 * (one entry per subcommand that has flags); one without an entry yet shows its usage line.
 */
export function helpCommand(
  args: string[],
  flags: Readonly<Record<string, () => string>>,
): HelpOutcome {
  if (args.length === 0) return { stdout: helpText(), exitCode: 0 };
  const command = SUBCOMMANDS.find((c) => c.name === args[0]);
  if (!command || args.length > 1) {
    const names = SUBCOMMANDS.map((c) => c.name).join(", ");
    const what = command ? `one subcommand at a time` : `unknown subcommand "${args[0]}"`;
    return { stderr: `etcd-ts help: ${what} (one of: ${names})\n`, exitCode: 2 };
  }
  const text = flags[command.name];
  if (text) return { stdout: text(), exitCode: 0 };
  return { stdout: `${command.summary}\n\nUsage:\n  ${command.usage}\n`, exitCode: 0 };
}
