// A private network namespace with its own DNS server (dnsmasq) for DNS SRV tests: members,
// gateways and probes run inside it with `ip netns exec`, which bind-mounts
// /etc/netns/<ns>/resolv.conf and hosts over /etc/. Only loopback exists inside, so every
// address in 127.0.0.0/8 can be bound there without touching the host's network.
import { itest, type Proc, type Run, run, spawn } from "./process.ts";
import { tempDir } from "./tmp.ts";

export interface SrvHost {
  /** Full owner name, e.g. "_etcd-server._tcp.example.com". */
  name: string;
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

/** A SRV record; priority and weight 0 unless given. */
export function srvRecord(
  name: string,
  target: string,
  port: number,
  priority = 0,
  weight = 0,
): SrvHost {
  return { name, target, port, priority, weight };
}

export interface HostRecord {
  name: string;
  /** IPv4 and/or IPv6 addresses. */
  addresses: string[];
}

export interface DnsSetup {
  /** Zones answered locally (unknown names get NXDOMAIN). Default ["example.com"]. */
  domains?: string[];
  srv?: SrvHost[];
  hosts?: HostRecord[];
  /** Contents of the namespace's /etc/hosts (default: localhost only). */
  etcHosts?: string;
}

export interface DnsNamespace {
  name: string;
  /** Starts a process inside the namespace; it is killed by `close()`. */
  spawn(command: string, args: string[], opts?: { env?: Record<string, string> }): Proc;
  /** Runs a command inside the namespace to completion. */
  run(
    command: string,
    args: string[],
    opts?: { env?: Record<string, string>; stdin?: string },
  ): Promise<Run>;
  /** Stops every process, deletes the namespace and /etc/netns/<name>. */
  close(): Promise<void>;
}

function commandExists(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Why DNS namespace tests cannot run here, or undefined when they can. Probes by creating and
 * deleting a namespace, so compute it once, up front, for Deno.test's `ignore`.
 */
export function netnsSkipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  for (const cmd of ["ip", "dnsmasq"]) {
    if (!commandExists(cmd)) return `${cmd} is not installed`;
  }
  const probe = `etcdts-probe-${crypto.randomUUID().slice(0, 8)}`;
  const add = new Deno.Command("ip", { args: ["netns", "add", probe], stderr: "piped" })
    .outputSync();
  if (!add.success) {
    return `cannot create a network namespace (${new TextDecoder().decode(add.stderr).trim()})`;
  }
  new Deno.Command("ip", { args: ["netns", "del", probe] }).outputSync();
  return undefined;
}

function dnsmasqArgs(setup: DnsSetup): string[] {
  const args = [
    "--no-daemon",
    "--conf-file=/dev/null",
    "--log-facility=-",
    "--pid-file=",
    "--no-resolv",
    "--no-hosts",
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
  ];
  for (const d of setup.domains ?? ["example.com"]) args.push(`--local=/${d}/`);
  for (const s of setup.srv ?? []) {
    args.push(`--srv-host=${s.name},${s.target},${s.port},${s.priority ?? 0},${s.weight ?? 0}`);
  }
  for (const h of setup.hosts ?? []) args.push(`--host-record=${h.name},${h.addresses.join(",")}`);
  return args;
}

async function ip(...args: string[]): Promise<void> {
  const r = await run("ip", args);
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** Creates the namespace and starts its DNS server; call `close()` in a finally block. */
export async function createDnsNamespace(setup: DnsSetup): Promise<DnsNamespace> {
  const name = `etcdts-${crypto.randomUUID().slice(0, 8)}`;
  const etcDir = `/etc/netns/${name}`;
  const procs: Proc[] = [];
  const inNs = (command: string, args: string[]) => ["netns", "exec", name, command, ...args];
  const close = async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.status));
    // Anything else still inside was started by a test through this namespace.
    const left = await run("ip", ["netns", "pids", name]);
    for (const pid of left.stdout.split("\n").filter((l) => l.trim() !== "")) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    await run("ip", ["netns", "del", name]);
    await Deno.remove(etcDir, { recursive: true }).catch(() => {});
  };
  const ns: DnsNamespace = {
    name,
    spawn(command, args, opts = {}) {
      const p = spawn("ip", inNs(command, args), opts);
      procs.push(p);
      return p;
    },
    run: (command, args, opts = {}) => run("ip", inNs(command, args), opts),
    close,
  };
  try {
    await ip("netns", "add", name);
    await ip("netns", "exec", name, "ip", "link", "set", "lo", "up");
    await Deno.mkdir(etcDir, { recursive: true });
    await Deno.writeTextFile(`${etcDir}/resolv.conf`, "nameserver 127.0.0.1\n");
    await Deno.writeTextFile(
      `${etcDir}/hosts`,
      setup.etcHosts ?? "127.0.0.1 localhost\n::1 localhost\n",
    );
    const dnsmasq = ns.spawn("dnsmasq", dnsmasqArgs(setup));
    await dnsmasq.waitFor(/started, version/, 10_000);
    return ns;
  } catch (err) {
    await close();
    throw err;
  }
}

/** An integration test in a fresh namespace; ignored when `skip` says namespaces cannot be made. */
export function nsTest(
  setup: DnsSetup,
  skip: string | undefined,
  name: string,
  fn: (ns: DnsNamespace, dataDir: string) => Promise<void>,
): void {
  if (skip) {
    Deno.test({ name, ignore: true, fn: () => {} });
    return;
  }
  itest(name, async () => {
    await using dataDir = tempDir();
    const ns = await createDnsNamespace(setup);
    try {
      await fn(ns, dataDir.path);
    } finally {
      await ns.close();
    }
  });
}
