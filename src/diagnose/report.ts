// What `etcd-ts diagnose` prints: facts in sections, then each problem with what etcd-ts would
// say and how to fix it. A report with problems makes the command exit 1.

export interface Problem {
  /** One line: what is wrong. */
  title: string;
  /** Lines explaining why (addresses, the message etcd-ts would exit with, ...). */
  detail: string[];
  /** Lines saying what to change. */
  fix: string[];
}

export class Report {
  readonly lines: string[] = [];
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];

  section(title: string): void {
    if (this.lines.length > 0) this.lines.push("");
    this.lines.push(`${title}:`);
  }

  line(text: string, indent = 1): void {
    this.lines.push(`${"  ".repeat(indent)}${text}`);
  }

  problem(title: string, detail: string[], fix: string[]): void {
    this.problems.push({ title, detail, fix });
  }

  /** Something to know that does not stop the member from bootstrapping. */
  warn(title: string, detail: string[], fix: string[] = []): void {
    this.warnings.push({ title, detail, fix });
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  render(verdictOk: string): string {
    const out = [...this.lines];
    const block = (label: string, p: Problem) => {
      out.push("", `${label}: ${p.title}`);
      for (const d of p.detail) out.push(`  ${d}`);
      p.fix.forEach((f, i) => out.push(`  ${i === 0 ? "fix:" : "    "} ${f}`));
    };
    for (const p of this.problems) block("PROBLEM", p);
    for (const w of this.warnings) block("WARNING", w);
    out.push("");
    if (this.ok) out.push(`OK: ${verdictOk}`);
    else {
      const n = this.problems.length;
      out.push(`${n} problem${n === 1 ? "" : "s"} found.`);
    }
    return out.join("\n") + "\n";
  }
}
