// The network of a fault run: one namespace per member and a hub namespace whose bridge joins
// them (the clients run in the hub). Every fault is an nft rule, a tc qdisc or a link state
// inside one member's namespace, so nothing touches the host's network.

import { type Run, run } from "../../helpers/process.ts";

const SUBNET = "10.217.0";
/** The hub's address on the bridge: where the clients' connections come from. */
export const HUB_IP = `${SUBNET}.1`;
/** The member's end of its link, inside its namespace. */
const DEV = "eth0";

/** What the kernel offers for delay and loss (tc's netem is a module some kernels lack). */
export interface Capabilities {
  netem: boolean;
  tbf: boolean;
}

export type Direction = "both" | "in" | "out";

export class Network {
  private constructor(
    readonly id: string,
    readonly size: number,
    readonly caps: Capabilities,
  ) {}

  get hub(): string {
    return `${this.id}-hub`;
  }

  ns(i: number): string {
    return `${this.id}-m${i}`;
  }

  ip(i: number): string {
    return `${SUBNET}.${10 + i}`;
  }

  /** The namespaces, the bridge and one veth per member, all up; the fault tables empty. */
  static async create(size: number): Promise<Network> {
    const id = `rb${crypto.randomUUID().slice(0, 6)}`;
    const draft = new Network(id, size, { netem: false, tbf: false });
    try {
      await draft.build();
      const caps = await draft.probe();
      return new Network(id, size, caps);
    } catch (err) {
      await draft.close();
      throw err;
    }
  }

  private async build(): Promise<void> {
    await ip("netns", "add", this.hub);
    await ip("-n", this.hub, "link", "set", "lo", "up");
    await ip("-n", this.hub, "link", "add", "br0", "type", "bridge");
    await ip("-n", this.hub, "addr", "add", `${HUB_IP}/24`, "dev", "br0");
    await ip("-n", this.hub, "link", "set", "br0", "up");
    for (let i = 0; i < this.size; i++) {
      const ns = this.ns(i), end = `m${i}`;
      await ip("netns", "add", ns);
      await ip("-n", ns, "link", "set", "lo", "up");
      await ip(
        "link",
        "add",
        DEV,
        "netns",
        ns,
        "type",
        "veth",
        "peer",
        "name",
        end,
        "netns",
        this.hub,
      );
      await ip("-n", this.hub, "link", "set", end, "master", "br0");
      await ip("-n", this.hub, "link", "set", end, "up");
      await ip("-n", ns, "addr", "add", `${this.ip(i)}/24`, "dev", DEV);
      await ip("-n", ns, "link", "set", DEV, "up");
      await this.exec(ns, "nft", ["-f", "-"], FAULT_TABLE);
    }
  }

  /** Tries each qdisc once on member 0's link. */
  private async probe(): Promise<Capabilities> {
    const tryQdisc = async (...spec: string[]) => {
      const added = await this.run(this.ns(0), "tc", ["qdisc", "add", "dev", DEV, "root", ...spec]);
      await this.run(this.ns(0), "tc", ["qdisc", "del", "dev", DEV, "root"]);
      return added.code === 0;
    };
    return {
      netem: await tryQdisc("netem", "delay", "1ms"),
      tbf: await tryQdisc(...TBF),
    };
  }

  run(ns: string, command: string, args: string[], stdin?: string): Promise<Run> {
    return run("ip", ["netns", "exec", ns, command, ...args], { stdin });
  }

  async exec(ns: string, command: string, args: string[], stdin?: string): Promise<string> {
    const r = await this.run(ns, command, args, stdin);
    if (r.code !== 0) {
      throw new Error(`${ns}: ${command} ${args.join(" ")}: ${r.stderr.trim() || r.stdout}`);
    }
    return r.stdout;
  }

  private peers(i: number): string {
    const others = Array.from({ length: this.size }, (_, j) => j).filter((j) => j !== i);
    return `{ ${others.map((j) => this.ip(j)).join(", ")} }`;
  }

  private nft(i: number, ...rules: string[]): Promise<string> {
    return this.exec(this.ns(i), "nft", ["-f", "-"], rules.map((r) => `add rule ${r}\n`).join(""));
  }

  /**
   * Cuts member `i` off from the other members; clients still reach it. "in" drops only the
   * segments carrying data from them (pure ACKs pass, so TCP stays up and the member still
   * talks to them); "out" the same the other way.
   */
  isolate(i: number, direction: Direction): Promise<string> {
    const peers = this.peers(i);
    const data = direction === "both" ? "" : ` ip length > ${PURE_ACK_MAX}`;
    const rules = [];
    if (direction !== "out") rules.push(`inet fault input ip saddr ${peers}${data} drop`);
    if (direction !== "in") rules.push(`inet fault output ip daddr ${peers}${data} drop`);
    return this.nft(i, ...rules);
  }

  /** Drops `percent` of member `i`'s packets, both ways, clients' included. */
  loss(i: number, percent: number): Promise<string> {
    return this.nft(
      i,
      `inet fault input numgen random mod 100 < ${percent} drop`,
      `inet fault output numgen random mod 100 < ${percent} drop`,
    );
  }

  /** Delays member `i`'s outgoing packets: netem where it exists, else a tbf rate limit (the
   * queue's wait is the delay, under load only). Returns what was applied. */
  async delay(i: number, ms: number): Promise<string> {
    const spec = this.caps.netem
      ? ["netem", "delay", `${ms}ms`, `${Math.round(ms / 4)}ms`]
      : this.caps.tbf
      ? TBF
      : undefined;
    if (!spec) throw new Error("neither netem nor tbf is available");
    await this.exec(this.ns(i), "tc", ["qdisc", "add", "dev", DEV, "root", ...spec]);
    return spec.join(" ");
  }

  linkDown(i: number): Promise<string> {
    return this.exec(this.ns(i), "ip", ["link", "set", DEV, "down"]);
  }

  /** Undoes every fault on member `i`'s network. */
  async heal(i: number): Promise<void> {
    const ns = this.ns(i);
    await this.exec(ns, "nft", ["flush", "table", "inet", "fault"]);
    await this.run(ns, "tc", ["qdisc", "del", "dev", DEV, "root"]);
    await this.exec(ns, "ip", ["link", "set", DEV, "up"]);
  }

  /** Kills what still runs in the namespaces (only this run's processes live there), deletes them. */
  async close(): Promise<void> {
    const all = [this.hub, ...Array.from({ length: this.size }, (_, i) => this.ns(i))];
    for (const ns of all) {
      const left = await run("ip", ["netns", "pids", ns]);
      for (const pid of left.stdout.split("\n").filter((l) => l.trim() !== "")) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      await run("ip", ["netns", "del", ns]);
    }
  }
}

const FAULT_TABLE = `table inet fault {
  chain input { type filter hook input priority 0; policy accept; }
  chain output { type filter hook output priority 0; policy accept; }
}
`;

/** A rate so low that the peers' traffic queues: ~256 kbit/s, up to a second of backlog. */
const TBF = ["tbf", "rate", "256kbit", "burst", "4kb", "latency", "1s"];

/** The largest IPv4 length of a TCP segment without data: 20 + 20 + 40 bytes of options. */
const PURE_ACK_MAX = 80;

async function ip(...args: string[]): Promise<void> {
  const r = await run("ip", args);
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** Why namespaces cannot be made here (not root, no ip or nft), or undefined when they can. */
export async function netSkipReason(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  try {
    const net = await Network.create(1);
    await net.close();
    return undefined;
  } catch (err) {
    return `cannot build the fault network: ${(err as Error).message}`;
  }
}
