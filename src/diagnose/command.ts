// `etcd-ts diagnose srv DOMAIN [--discovery-srv-name S] [member flags]`: the member flags are
// read by the server's own parser (and ETCD_* variables, --config-file), so the diagnosis sees
// exactly the configuration the member would start with.
import { type Config, parseServerArgs } from "../config/mod.ts";
import { systemResolver } from "../discovery/mod.ts";
import type { DiagnoseDeps } from "./input.ts";
import { diagnoseSrv } from "./srv.ts";

export const DIAGNOSE_USAGE = `Usage:

  etcd-ts diagnose srv DOMAIN [--discovery-srv-name NAME] [member flags]

Replays a member's DNS SRV bootstrap (--discovery-srv DOMAIN) without starting it: shows the
_etcd-server(-ssl) and _etcd-client(-ssl) records with their resolved addresses, which record
is this member (matched by its --initial-advertise-peer-urls), checks --peer-cert-file and
--cert-file SANs against the SRV domain, the targets and the member's address, and says what to
fix. Pass the flags the member runs with (--name, --initial-advertise-peer-urls, ...).
Exit status 0 when the member would bootstrap, 1 when it would not, 2 for usage errors.
`;

const encoder = new TextEncoder();
const write = (stream: { writeSync(b: Uint8Array): number }, text: string) => {
  const bytes = encoder.encode(text);
  let done = 0;
  while (done < bytes.length) done += stream.writeSync(bytes.subarray(done));
};

/** Plain-language fixes for the flag errors operators hit with SRV set-ups. */
function flagFix(message: string): string | undefined {
  if (message.includes("expected IP in URL for binding")) {
    return "listen URLs must be IP addresses (this machine's address, or 0.0.0.0); " +
      "host names belong in --initial-advertise-peer-urls and --advertise-client-urls";
  }
  if (message.includes("is not a valid flag") || message.includes("flag provided but not")) {
    return "check the spelling of the member flags after DOMAIN";
  }
  return undefined;
}

/** Member flags -> Config, or the failure text. */
async function memberConfig(domain: string, flags: string[]): Promise<Config | string> {
  const outcome = await parseServerArgs(["--discovery-srv", domain, ...flags], Deno.env.toObject());
  if (outcome.action === "run") return outcome.config;
  if (outcome.action === "print") return "member flags may not include --help or --version";
  return outcome.stderr.trim();
}

export async function runDiagnose(
  argv: string[],
  deps: DiagnoseDeps = {
    resolver: systemResolver,
    readFile: (p) => Deno.readTextFileSync(p),
  },
): Promise<number> {
  if (argv.length === 0 || ["-h", "--help", "-help", "help"].includes(argv[0])) {
    write(argv.length === 0 ? Deno.stderr : Deno.stdout, DIAGNOSE_USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] !== "srv") {
    write(Deno.stderr, `etcd-ts diagnose: unknown check ${JSON.stringify(argv[0])}\n\n`);
    write(Deno.stderr, DIAGNOSE_USAGE);
    return 2;
  }
  const rest = argv.slice(1);
  if (rest.some((a) => ["-h", "--help", "-help"].includes(a))) {
    write(Deno.stdout, DIAGNOSE_USAGE);
    return 0;
  }
  const domain = rest[0] !== undefined && !rest[0].startsWith("-") ? rest[0] : "";
  const flags = domain === "" ? rest : rest.slice(1);
  if (domain === "") {
    write(Deno.stderr, `etcd-ts diagnose srv: DOMAIN is required\n\n${DIAGNOSE_USAGE}`);
    return 2;
  }
  const config = await memberConfig(domain, flags);
  if (typeof config === "string") {
    const fix = flagFix(config);
    write(
      Deno.stdout,
      `The member flags are refused before any DNS lookup:\n  ${config}\n` +
        (fix ? `  fix: ${fix}\n` : "") + "\n1 problem found.\n",
    );
    return 1;
  }
  if (config.discoverySrv !== domain) {
    write(
      Deno.stderr,
      `etcd-ts diagnose srv: DOMAIN ${domain} differs from --discovery-srv ` +
        `${config.discoverySrv}\n`,
    );
    return 2;
  }
  const report = await diagnoseSrv({
    domain,
    srvName: config.discoverySrvName,
    name: config.name,
    advertisePeerUrls: config.initialAdvertisePeerUrls.map(String),
    advertiseClientUrls: config.advertiseClientUrls.map(String),
    listenPeerUrls: config.listenPeerUrls.map(String),
    initialClusterToken: config.initialClusterToken,
    peerTLS: config.peerTLS,
    clientTLS: config.clientTLS,
  }, deps);
  write(Deno.stdout, report.render(`${config.name} would bootstrap from these records.`));
  return report.ok ? 0 : 1;
}
