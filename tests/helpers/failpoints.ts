// gofail's HTTP endpoint of a member started with GOFAIL_HTTP=<addr>.
import assert from "node:assert/strict";

/** Sets failpoint `name` to `terms` in the member serving gofail's endpoint on `addr`. */
export async function setFailpoint(addr: string, name: string, terms: string): Promise<void> {
  const res = await fetch(`http://${addr}/${name}`, { method: "PUT", body: terms });
  assert.equal(res.status, 204, await res.text());
}
