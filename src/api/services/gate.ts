// What every client call waits on before its service answers: the member serving clients.
export interface Gate {
  /** Resolves once the member has published itself (Status answers from then on). */
  ready(): Promise<void>;
  /** Waits until the member serves clients; fails fast without a leader when asked to. */
  serving(metadata: Record<string, string>): Promise<void>;
}
