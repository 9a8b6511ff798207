// A member announces its name and client URLs through Raft; until that is applied it does not
// serve clients (etcd's publish and ReadyNotify). A refused proposal is tried again a heartbeat
// later until the member stops.
import type { Logger } from "../log/mod.ts";
import { formatId } from "./ids.ts";
import { formatAttributes } from "./membership.ts";
import type { Propose } from "./proposer.ts";

export interface PublishDeps {
  log: Logger;
  memberId: bigint;
  name: string;
  clientURLs: string[];
  heartbeatMs: number;
  proposer: Propose;
  stopped(): boolean;
  clusterId(): bigint;
  requestTimeoutMs(): number;
}

export class Publisher {
  readonly #deps: PublishDeps;
  readonly #readyWaiters: (() => void)[] = [];
  #published = false;

  constructor(deps: PublishDeps) {
    this.#deps = deps;
  }

  /** The member's attributes are applied: it may serve clients. */
  get published(): boolean {
    return this.#published;
  }

  /** Resolves once this member has published its attributes. */
  ready(): Promise<void> {
    if (this.#published) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  publish(): void {
    const attrs = {
      memberId: this.#deps.memberId,
      name: this.#deps.name,
      clientURLs: this.#deps.clientURLs,
    };
    const attempt = () => {
      if (this.#deps.stopped() || this.#published) return;
      this.#deps.proposer.propose("memberAttrSet", attrs).then(() => this.#onPublished(), () => {
        if (!this.#deps.stopped()) setTimeout(attempt, this.#deps.heartbeatMs);
      });
    };
    attempt();
  }

  #onPublished(): void {
    if (this.#published) return;
    this.#published = true;
    const { log, name, clientURLs, memberId } = this.#deps;
    const attributes = formatAttributes(name, clientURLs);
    const clusterId = this.#deps.clusterId();
    log.info({
      pkg: "etcdserver",
      text: `published ${attributes} to cluster ${formatId(clusterId)}`,
      msg: "published local member to cluster through raft",
      fields: {
        "local-member-id": formatId(memberId),
        "local-member-attributes": attributes,
        "request-path": `/0/members/${formatId(memberId)}/attributes`,
        "cluster-id": formatId(clusterId),
        "publish-timeout": `${this.#deps.requestTimeoutMs() / 1000}s`,
      },
    });
    this.#readyWaiters.splice(0).forEach((r) => r());
  }
}
