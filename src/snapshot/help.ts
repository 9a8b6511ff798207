// Help texts in etcdctl's layout (NAME, USAGE, DESCRIPTION, OPTIONS, GLOBAL OPTIONS).
import { FLAGS, type FlagSpec, shownDefault, type Subcommand } from "./flags.ts";

const SHORT: Record<Subcommand, string> = {
  save: "Stores an etcd node backend snapshot to a given file",
  restore: "Restores an etcd member snapshot to an etcd directory",
  status: "Gets backend snapshot status of a given file",
};

const USE: Record<Subcommand, string> = {
  save: "save <filename>",
  restore: "restore <filename> [options]",
  status: "status <filename>",
};

const LONG: Partial<Record<Subcommand, string>> = {
  save:
    "Streams the backend of the member at --endpoints (exactly one) as etcd 3.4's bbolt file, " +
    "followed by its SHA-256,\ninto <filename> (written as <filename>.part, renamed when complete).",
  status: "When --write-out is set to simple, this command prints out comma-separated status " +
    "lists for each endpoint.\nThe items in the lists are hash, revision, total keys, total size.",
  restore: "Makes a new etcd-ts data dir from a snapshot written by etcd 3.4 or etcd-ts: the " +
    "keys with their revisions,\nleases, users, roles and alarms from the snapshot, the member " +
    "and cluster IDs from --initial-cluster and\n--initial-cluster-token, as etcd's restore " +
    "computes them. Nothing is written when the snapshot is refused.",
};

function optionLines(flags: FlagSpec[]): string[] {
  const rows = flags.map((f) => {
    const short = f.short ? `-${f.short}, ` : "    ";
    return [`  ${short}--${f.name}${shownDefault(f)}`, f.help];
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, h]) => l.padEnd(width) + h);
}

export function snapshotHelp(command: Subcommand | undefined): string {
  const own = command === "restore" ? FLAGS.filter((f) => f.restore) : [];
  const lines = command === undefined
    ? [
      "NAME:",
      "\tsnapshot - Manages etcd node snapshots",
      "",
      "USAGE:",
      "\tetcd-ts snapshot <subcommand> [flags]",
      "",
      "COMMANDS:",
      ...(Object.keys(SHORT) as Subcommand[]).map((c) => `\t${c.padEnd(8)}${SHORT[c]}`),
    ]
    : [
      "NAME:",
      `\tsnapshot ${command} - ${SHORT[command]}`,
      "",
      "USAGE:",
      `\tetcd-ts snapshot ${USE[command]} [flags]`,
      "",
      "DESCRIPTION:",
      ...LONG[command]!.split("\n").map((l) => `\t${l}`),
    ];
  lines.push(
    "",
    "OPTIONS:",
    ...optionLines([
      {
        name: "help",
        short: "h",
        type: "bool",
        default: false,
        help: `help for ${command ?? "snapshot"}`,
      },
      ...own,
    ]),
    "",
    "GLOBAL OPTIONS:",
    ...optionLines(FLAGS.filter((f) => !f.restore)),
    "",
  );
  return lines.join("\n");
}
