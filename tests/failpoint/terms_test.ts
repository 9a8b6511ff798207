// gofail's term language: parsing, the order terms run in, counts and percentages, values.
import assert from "node:assert/strict";
import { ErrBadParse, FailpointError, Terms } from "../../src/failpoint/mod.ts";

/** What each of `n` passes runs: the action, with its value when it has one. */
function passes(desc: string, n: number, random?: () => number): string[] {
  const t = new Terms(desc, random);
  return Array.from({ length: n }, () => {
    const term = t.next();
    if (!term) return "-";
    return term.value === null ? term.action : `${term.action}(${JSON.stringify(term.value)})`;
  });
}

Deno.test("a count runs its term that many times, then the next term in the chain", () => {
  assert.deepEqual(passes(`2*return("abc")`, 3), [`return("abc")`, `return("abc")`, "-"]);
  assert.deepEqual(passes(`2*return("abc")->1*return("def")`, 4), [
    `return("abc")`,
    `return("abc")`,
    `return("def")`,
    "-",
  ]);
  assert.deepEqual(passes(`1*return("abc")->return("def")`, 3), [
    `return("abc")`,
    `return("def")`,
    `return("def")`,
  ]);
  // "once" is 1*; off passes count as runs, so 3*off->panic panics on the fourth pass.
  assert.deepEqual(passes("3*off->panic", 5), ["off", "off", "off", "panic", "panic"]);
});

Deno.test("the counter counts passes that ran a term (gofail's counter)", () => {
  const t = new Terms(`10*sleep(10)->1*return("abc")`);
  for (let i = 0; i < 12; i++) t.next();
  assert.equal(t.executions, 11);
});

Deno.test("a percentage runs its term when the draw is at or under it", () => {
  const draws = [0.1, 0.5, 0.29, 0.31];
  let i = 0;
  const random = () => draws[i++];
  assert.deepEqual(passes("30%return", 4, random), ["return", "-", "return", "-"]);
  // gofail's form with a decimal point, and a percentage with a count: both must allow it.
  i = 0;
  assert.deepEqual(passes("30.0%1*panic", 4, random), ["panic", "-", "-", "-"]);
});

Deno.test("values: strings with Go escapes, integers, booleans, nothing", () => {
  assert.deepEqual(passes(`return("a\\"b\\n")`, 1), [`return("a\\"b\\n")`]);
  assert.deepEqual(passes("return(1)", 1), ["return(1)"]);
  assert.deepEqual(passes("return(true)", 1), ["return(true)"]);
  assert.deepEqual(passes("return()", 1), ["return"]);
  assert.deepEqual(passes("print", 1), ["print"]);
});

Deno.test("sleep takes milliseconds or a Go duration", () => {
  assert.equal(new Terms("sleep(100)").next()?.sleepMs, 100);
  assert.equal(new Terms(`sleep("1.5s")`).next()?.sleepMs, 1500);
  assert.equal(new Terms(`sleep("1m30s")`).next()?.sleepMs, 90_000);
  assert.equal(new Terms(`sleep("250us")`).next()?.sleepMs, 0.25);
});

Deno.test("malformed terms are refused with gofail's error", () => {
  for (
    const desc of [
      "",
      "nope",
      "return(",
      `return("abc"`,
      `return("abc`,
      "return(1",
      "return(true",
      "return)x",
      "panic->",
      "panic->->off",
      "2.5*panic",
      "*panic",
      `sleep("soon")`,
      "sleep(true)",
      "break",
      `return("\\q")`,
    ]
  ) {
    assert.throws(() => new Terms(desc), (err: Error) => {
      assert.ok(err instanceof FailpointError, desc);
      assert.equal(err.message, ErrBadParse, desc);
      return true;
    });
  }
});
