// The discovery client (`--discovery`, etcd 3.4's v2-keys protocol, spec/discovery.md §3-5):
// read the token's size, register this member once, wait until `size` members registered, and
// return their initial-cluster string. Cluster errors (dial failures, 5xx) are retried forever
// with etcd's exponential backoff; everything else ends discovery with etcd's error.
import { ErrorCode, V2Error } from "../v2store/mod.ts";
import type { Logger } from "../log/mod.ts";
import { computeMemberId, formatId } from "../server/mod.ts";
import { ClusterError, InvalidJSONError, KeysClient, type KeysResponse } from "./keys_client.ts";
import type { NodeExtern } from "../v2store/mod.ts";

export type DiscoveryErrorKind =
  | "sizeNotFound"
  | "badSizeKey"
  | "badEndpoint"
  | "fullCluster"
  | "duplicateId"
  | "duplicateName"
  | "invalidURL";

const messages: Record<DiscoveryErrorKind, string> = {
  sizeNotFound: "discovery: size key not found",
  badSizeKey: "discovery: size key is bad",
  badEndpoint: "discovery: bad discovery endpoint",
  fullCluster: "discovery: cluster is full",
  duplicateId: "discovery: found duplicate id",
  duplicateName: "discovery: found duplicate name",
  invalidURL: "discovery: invalid URL",
};

export class DiscoveryError extends Error {
  constructor(
    readonly kind: DiscoveryErrorKind,
    /** For fullCluster: the first `size` registrations; for sizeNotFound: the v2 error. */
    readonly cluster = "",
    readonly v2Error?: V2Error,
  ) {
    super(messages[kind]);
    this.name = "DiscoveryError";
  }
}

export interface DiscoveryOptions {
  /** The --discovery URL, used verbatim as the cluster token for member IDs. */
  url: string;
  /** This member's ID (computeMemberId(peerURLs, url)). */
  memberId: bigint;
  /** --discovery-proxy; a value without scheme gets http://. */
  proxy?: string;
  logger?: Logger;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Ends a pending wait (shutdown); the call then rejects with the abort reason. */
  signal?: AbortSignal;
  /** A client for https with extra CA certificates (tests); Deno's env otherwise. */
  httpClient?: Deno.HttpClient;
}

/** etcd's backoff: 2^retries seconds, constant from 2^8 on. */
const MAX_EXPONENTIAL_RETRIES = 8;

/** The member ID discovery uses: the discovery URL is the cluster token. */
export function discoveryMemberId(peerURLs: string[], discoveryURL: string): bigint {
  return computeMemberId(peerURLs, discoveryURL);
}

/** This member's registration value: `name=url` per peer URL, sorted, comma separated. */
export function registrationValue(name: string, peerURLs: string[]): string {
  return peerURLs.map((u) => `${name}=${u}`).sort().join(",");
}

/** Registers this member and waits for the whole cluster (etcd's JoinCluster). */
export async function joinCluster(
  opts: DiscoveryOptions & { name: string; peerURLs: string[] },
): Promise<string> {
  const d = new Discovery(opts);
  await d.checkCluster();
  await d.createSelf(registrationValue(opts.name, opts.peerURLs));
  const { nodes, size, index } = await d.checkCluster();
  return nodesToCluster(await d.waitNodes(nodes, size, index), size);
}

/** Reads the cluster without registering (etcd's GetCluster, for proxies): full is fine. */
export async function getCluster(opts: DiscoveryOptions): Promise<string> {
  const d = new Discovery(opts);
  let state;
  try {
    state = await d.checkCluster();
  } catch (err) {
    if (err instanceof DiscoveryError && err.kind === "fullCluster") return err.cluster;
    throw err;
  }
  return nodesToCluster(await d.waitNodes(state.nodes, state.size, state.index), state.size);
}

interface ClusterState {
  nodes: NodeExtern[];
  size: number;
  index: number;
}

class Discovery {
  readonly keys: KeysClient;
  readonly token: string;
  readonly endpoint: string;
  readonly selfKey: string;
  retries = 0;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(readonly opts: DiscoveryOptions) {
    const u = new URL(opts.url);
    this.endpoint = `${u.protocol}//${u.host}`;
    this.token = u.pathname.replace(/\/+$/, "");
    this.selfKey = `${this.token}/${formatId(opts.memberId)}`;
    let client = opts.httpClient;
    if (!client && opts.proxy) {
      const proxy = /^[a-z]+:\/\//i.test(opts.proxy) ? opts.proxy : `http://${opts.proxy}`;
      opts.logger?.info({
        pkg: "discovery",
        text: `using proxy "${proxy}"`,
        msg: "running proxy with discovery",
        fields: { "proxy-url": proxy },
      });
      client = Deno.createHttpClient({ proxy: { url: proxy } });
    }
    this.keys = new KeysClient(this.endpoint, client);
    this.#sleep = opts.sleep ?? ((ms) => abortableSleep(ms, opts.signal));
  }

  #notice(text: string, msg: string, fields: Record<string, unknown> = {}): void {
    this.opts.logger?.notice({
      pkg: "discovery",
      text,
      msg,
      fields: { "discovery-url": this.opts.url, ...fields },
    });
  }

  async #backoff(step: string, err: ClusterError): Promise<void> {
    this.opts.logger?.error({
      pkg: "discovery",
      text: err.detail(),
      msg: "failed to get from discovery server",
      fields: { "discovery-url": this.opts.url, "err-detail": err.detail() },
    });
    this.retries++;
    const seconds = 2 ** Math.min(this.retries, MAX_EXPONENTIAL_RETRIES);
    this.opts.logger?.info({
      pkg: "discovery",
      text: `${step}: error connecting to ${this.endpoint}, retrying in ${seconds}s`,
      msg: "retry connecting to discovery service",
      fields: { url: this.endpoint, reason: step, backoff: `${seconds}s` },
    });
    await this.#sleep(seconds * 1000);
    this.opts.signal?.throwIfAborted();
  }

  async checkCluster(): Promise<ClusterState> {
    for (;;) {
      try {
        return await this.#checkClusterOnce();
      } catch (err) {
        if (!(err instanceof ClusterError)) throw err;
        await this.#backoff("cluster status check", err);
      }
    }
  }

  async #checkClusterOnce(): Promise<ClusterState> {
    let sizeResp: KeysResponse;
    try {
      sizeResp = await this.keys.get(`${this.token}/_config/size`);
    } catch (err) {
      if (err instanceof V2Error && err.errorCode === ErrorCode.KeyNotFound) {
        throw new DiscoveryError("sizeNotFound", "", err);
      }
      if (err instanceof InvalidJSONError) throw new DiscoveryError("badEndpoint");
      throw err;
    }
    const sizeText = sizeResp.node.value ?? "";
    if (!/^[0-9]+$/.test(sizeText)) throw new DiscoveryError("badSizeKey");
    const size = Number(sizeText);
    const dir = await this.keys.get(this.token);
    const nodes = (dir.node.nodes ?? [])
      .filter((n) => baseName(n.key ?? "") !== "_config")
      .sort((a, b) => (a.createdIndex ?? 0) - (b.createdIndex ?? 0));
    const self = baseName(this.selfKey);
    for (let i = 0; i < nodes.length; i++) {
      if (baseName(nodes[i].key ?? "") === self) break;
      if (i >= size - 1) {
        throw new DiscoveryError("fullCluster", nodesToString(nodes.slice(0, size)));
      }
    }
    return { nodes, size, index: dir.index };
  }

  async createSelf(value: string): Promise<void> {
    let created: KeysResponse;
    try {
      created = await this.keys.create(this.selfKey, value);
    } catch (err) {
      if (err instanceof V2Error && err.errorCode === ErrorCode.NodeExist) {
        throw new DiscoveryError("duplicateId");
      }
      throw err;
    }
    // Make sure our registration is visible on the server we talk to.
    await this.keys.watch(this.selfKey, false, created.node.createdIndex ?? 0, this.opts.signal);
  }

  async waitNodes(nodes: NodeExtern[], size: number, index: number): Promise<NodeExtern[]> {
    const all = nodes.slice(0, size);
    const self = baseName(this.selfKey);
    for (const n of all) {
      const id = baseName(n.key ?? "");
      if (id === self) {
        this.#notice(`found self ${id} in the cluster`, "found self from discovery server", {
          self: id,
        });
      } else {this.#notice(`found peer ${id} in the cluster`, "found peer from discovery server", {
          peer: id,
        });}
    }
    let waitIndex = index + 1;
    while (all.length < size) {
      this.#notice(
        `found ${all.length} peer(s), waiting for ${size - all.length} more`,
        "found peers from discovery server; waiting for more",
        { "found-peers": all.length, "needed-peers": size - all.length },
      );
      let ev: KeysResponse;
      try {
        ev = await this.keys.watch(this.token, true, waitIndex, this.opts.signal);
      } catch (err) {
        if (!(err instanceof ClusterError)) throw err;
        await this.#backoff("waiting for other nodes", err);
        const state = await this.checkCluster();
        return this.waitNodes(state.nodes, state.size, state.index);
      }
      waitIndex = (ev.node.modifiedIndex ?? waitIndex) + 1;
      const id = baseName(ev.node.key ?? "");
      this.#notice(`found peer ${id} in the cluster`, "found peer from discovery server", {
        peer: id,
      });
      all.push(ev.node);
    }
    this.#notice(
      `found ${all.length} needed peer(s)`,
      "found all needed peers from discovery server",
    );
    return all;
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

function nodesToString(nodes: NodeExtern[]): string {
  return nodes.map((n) => n.value ?? "").join(",");
}

/** Joins the registrations into an initial cluster; checks URLs and distinct names. */
export function nodesToCluster(nodes: NodeExtern[], size: number): string {
  const cluster = nodesToString(nodes);
  const names = new Set<string>();
  for (const pair of cluster.split(",")) {
    const eq = pair.indexOf("=");
    if (eq < 0) throw new DiscoveryError("invalidURL", cluster);
    try {
      new URL(pair.slice(eq + 1));
    } catch {
      throw new DiscoveryError("invalidURL", cluster);
    }
    names.add(pair.slice(0, eq));
  }
  if (names.size !== size) throw new DiscoveryError("duplicateName", cluster);
  return cluster;
}
