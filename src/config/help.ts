// Usage and help texts (our own wording; the command list and flag defaults follow etcd's).
import { FLAGS, GROUP_ORDER } from "./flags.ts";

export const USAGE = `Usage:

  etcd-ts [flags]
    Run an etcd member (or a v2 proxy with --proxy).

  etcd-ts --version
    Print the version and exit.

  etcd-ts -h | --help
    Print this help and exit.

  etcd-ts --config-file <file>
    Read the whole server configuration from a YAML file; other flags and ETCD_* variables are then ignored.

  etcd-ts gateway
    Run the stateless TCP forwarding gateway (see 'etcd-ts gateway --help').

  etcd-ts diagnose srv DOMAIN [--discovery-srv-name NAME] [member flags]
    Explain a member's DNS SRV bootstrap: records, matched target, certificate SANs, fixes.

  etcd-ts snapshot save|status|restore <file> [flags]
    etcdctl's snapshot commands on etcd 3.4's format (see 'etcd-ts snapshot --help').

  etcd-ts grpc-proxy
    The gRPC reverse proxy of etcd (not provided by etcd-ts).
`;

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
