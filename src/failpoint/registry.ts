// The failpoints that are set, and what reaching one does. A call site reads one boolean first:
//
//   if (failpoints.on) await hit("raftBeforeSave");
//
// so with none set a failpoint costs a property read. `panic` ends the process where it stands
// (a Go panic: `panic: failpoint panic: <name>`, exit 2); `return(v)` makes the site fail with
// the error `v` names (an errno such as "EIO" or "ENOSPC" reads as the operating system's).
import { type FailpointName, isFailpointName } from "./names.ts";
import { ErrBadParse, FailpointError, type Term, Terms, type Value } from "./terms.ts";

/** Whether any failpoint is set: the only thing a call site reads when none is. */
export const failpoints = { on: false };

/** gofail's errors, word for word. */
export const ErrNoExist = "failpoint: failpoint does not exist";
export const ErrDisabled = "failpoint: failpoint is disabled";

const active = new Map<FailpointName, Terms>();

/** Sets a failpoint's terms (replacing any it had). */
export function enable(name: string, desc: string, random?: () => number): void {
  if (!isFailpointName(name)) throw new FailpointError(ErrNoExist);
  active.set(name, new Terms(desc, random));
  failpoints.on = true;
}

export function disable(name: string): void {
  if (!isFailpointName(name)) throw new FailpointError(ErrNoExist);
  if (!active.delete(name)) throw new FailpointError(ErrDisabled);
  failpoints.on = active.size > 0;
}

export function disableAll(): void {
  active.clear();
  failpoints.on = false;
}

/** The terms a failpoint is set to and how often one ran, if it is set. */
export function status(name: string): { terms: string; executions: number } | undefined {
  const t = isFailpointName(name) ? active.get(name) : undefined;
  return t && { terms: t.desc, executions: t.executions };
}

/** The failpoints that are set, by name: `name=terms`. */
export function list(): string[] {
  return [...active].map(([n, t]) => `${n}=${t.desc}`).sort();
}

/** What one pass through a failpoint gave the site: the value of a `return`. */
export interface Fired {
  value: Value;
}

/** Runs the failpoint's term for this pass (sleeping asynchronously) and says if it returned. */
export async function evaluate(name: FailpointName): Promise<Fired | undefined> {
  const term = active.get(name)?.next();
  if (!term) return undefined;
  if (term.action === "sleep") await new Promise((r) => setTimeout(r, term.sleepMs));
  return act(name, term);
}

/** evaluate() where the site cannot wait: a sleep blocks the thread, as a slow disk would. */
export function evaluateSync(name: FailpointName): Fired | undefined {
  const term = active.get(name)?.next();
  if (!term) return undefined;
  if (term.action === "sleep") {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, term.sleepMs);
  }
  return act(name, term);
}

/** A failpoint on a path that can fail: a `return` throws the error it names. */
export async function hit(name: FailpointName): Promise<void> {
  const fired = await evaluate(name);
  if (fired) throw injectedError(name, fired.value);
}

export function hitSync(name: FailpointName): void {
  const fired = evaluateSync(name);
  if (fired) throw injectedError(name, fired.value);
}

function act(name: FailpointName, term: Term): Fired | undefined {
  switch (term.action) {
    case "return":
      return { value: term.value };
    case "panic":
      return panicNow(`failpoint panic: ${term.value ?? name}`);
    case "print":
      writeLine(Deno.stdout, `failpoint print: ${name}`);
      return undefined;
    default:
      return undefined;
  }
}

/** A Go panic nobody recovers: the message and the stack on stderr, exit 2, nothing after. */
function panicNow(message: string): never {
  const stack = new Error(message).stack?.split("\n").slice(1).join("\n") ?? "";
  writeLine(Deno.stderr, `panic: ${message}\n\n${stack}`);
  return Deno.exit(2);
}

function writeLine(w: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text + "\n");
  for (let off = 0; off < bytes.length;) off += w.writeSync(bytes.subarray(off));
}

/** The operating system's words for the errors a disk gives (as Deno reports them). */
const ERRNO: Record<string, [number, string]> = {
  EIO: [5, "Input/output error"],
  ENOSPC: [28, "No space left on device"],
  EROFS: [30, "Read-only file system"],
  EDQUOT: [122, "Disk quota exceeded"],
};

/** The error a `return(value)` raises at its site. */
export function injectedError(name: FailpointName, value: Value): Error {
  const errno = typeof value === "string" ? ERRNO[value] : undefined;
  if (errno) {
    return Object.assign(new Error(`${errno[1]} (os error ${errno[0]})`), { code: value });
  }
  return new Error(`failpoint ${name}: ${value ?? "error"}`);
}

/**
 * Sets the failpoints of GOFAIL_FAILPOINTS (`name=terms;name2=terms`). Returns the error to
 * refuse the start with, if any: a typo must not quietly test nothing.
 */
export function enableFromEnv(spec: string | undefined): string | undefined {
  for (const fp of (spec ?? "").split(";")) {
    if (fp === "") continue;
    const parts = fp.split("=");
    if (parts.length !== 2) return `fail to parse failpoint: bad failpoint "${fp}"`;
    try {
      enable(parts[0], parts[1]);
    } catch (err) {
      if (!(err instanceof FailpointError)) throw err;
      return `failed to enable "${fp}" (${err.message})`;
    }
  }
  return undefined;
}

export { ErrBadParse };
