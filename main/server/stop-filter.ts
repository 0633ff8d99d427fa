// stop-filter.ts — `stop` / `stop_sequences`: the answer ends at the first stop string, which is
// not part of the output. Text that could be the start of a stop string is held back until the
// next delta decides, so a stop string split across tokens is still found and never streamed.
export class StopFilter {
  private held = '';
  private stopped: string | null = null;
  private readonly longest: number;

  constructor(private readonly stops: string[]) {
    this.longest = stops.reduce((n, s) => Math.max(n, s.length), 0);
  }

  /** The stop string that matched, once one has. */
  get matched(): string | null { return this.stopped; }

  /** The text of this delta that may be shown now. */
  push(delta: string): string {
    if (this.stopped !== null) return '';
    if (!this.stops.length) return delta;
    const text = this.held + delta;
    let cut = -1;
    let which: string | null = null;
    for (const s of this.stops) {
      const i = text.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) { cut = i; which = s; }
    }
    if (which !== null) { this.stopped = which; this.held = ''; return text.slice(0, cut); }
    // Hold the longest tail that is a prefix of some stop string.
    let keep = 0;
    for (let k = Math.min(this.longest - 1, text.length); k > 0; k--) {
      const tail = text.slice(text.length - k);
      if (this.stops.some((s) => s.startsWith(tail))) { keep = k; break; }
    }
    this.held = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** What is still held at the end of the stream (it did not become a stop string). */
  flush(): string {
    const t = this.stopped === null ? this.held : '';
    this.held = '';
    return t;
  }
}
