// The JSON of a peer's `GET /members`, written and read with exact 64-bit IDs: etcd encodes a
// member ID as a JSON number, which JSON.parse/JSON.stringify would round above 2^53.

/** A member as `GET /members` lists it. */
export interface PeerMember {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** A JSON string as Go's encoding/json writes it (HTML-safe escapes included). */
export function goJSONString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd"; // a lone surrogate is not UTF-8
    else out += ch;
  }
  return out + '"';
}

function stringArray(a: string[]): string {
  return "[" + a.map(goJSONString).join(",") + "]";
}

/**
 * etcd's member encoding: `id`, `peerURLs`, `isLearner` only when true, `name` and
 * `clientURLs` only when non-empty, in that order (Go's struct order with omitempty).
 */
export function formatMemberJSON(m: PeerMember): string {
  let out = `{"id":${m.id.toString(10)},"peerURLs":${stringArray(m.peerURLs)}`;
  if (m.isLearner) out += `,"isLearner":true`;
  if (m.name !== "") out += `,"name":${goJSONString(m.name)}`;
  if (m.clientURLs.length > 0) out += `,"clientURLs":${stringArray(m.clientURLs)}`;
  return out + "}";
}

/** The body of `GET /members`: members sorted by ID, newline-terminated like Go's Encoder. */
export function formatMembersJSON(members: PeerMember[]): string {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return "[" + sorted.map(formatMemberJSON).join(",") + "]\n";
}

const MAX_UINT64 = (1n << 64n) - 1n;

type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

/**
 * Parses a `GET /members` body. IDs are read from their source text (JSON.parse's reviver
 * sees it), so 64-bit IDs stay exact. Throws on anything that is not a member array; `null`
 * (Go's empty slice) is an empty list.
 */
export function parseMembersJSON(text: string): PeerMember[] {
  const reviver: Reviver = (key, value, context) => {
    if (key !== "id" || typeof value !== "number") return value;
    const source = context?.source ?? "";
    if (!/^\d+$/.test(source)) throw new Error(`invalid member id ${source}`);
    const id = BigInt(source);
    if (id > MAX_UINT64) throw new Error(`member id ${source} overflows uint64`);
    return id;
  };
  const raw = JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
  if (raw === null) return [];
  if (!Array.isArray(raw)) throw new Error("cluster response is not a JSON array");
  return raw.map((m: Record<string, unknown>) => {
    if (m === null || typeof m !== "object" || Array.isArray(m)) {
      throw new Error("cluster response member is not an object");
    }
    const strings = (v: unknown, field: string): string[] => {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
        throw new Error(`member field ${field} is not a list of strings`);
      }
      return v as string[];
    };
    if (m.name !== undefined && typeof m.name !== "string") {
      throw new Error("member field name is not a string");
    }
    if (m.isLearner !== undefined && typeof m.isLearner !== "boolean") {
      throw new Error("member field isLearner is not a boolean");
    }
    return {
      id: typeof m.id === "bigint" ? m.id : 0n,
      name: (m.name as string | undefined) ?? "",
      peerURLs: strings(m.peerURLs, "peerURLs"),
      clientURLs: strings(m.clientURLs, "clientURLs"),
      isLearner: (m.isLearner as boolean | undefined) ?? false,
    };
  });
}
