// deepStrictEqual with a label, for property tests that loop over many message types.
import assert from "node:assert/strict";

export function assertEquals(actual: unknown, expected: unknown, label: string): void {
  try {
    assert.deepStrictEqual(actual, expected);
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`);
  }
}
