// throttle.ts — a bandwidth limit shared by every connection of a download (token bucket).
// 0 or undefined means unlimited.

/** How much the bucket may hold: a burst of at most this many seconds of the rate. */
const BURST_SECONDS = 0.25;

export class Throttle {
  private tokens = 0;
  private last = Date.now();
  constructor(private bytesPerSecond = 0) {}

  setRate(bytesPerSecond: number): void { this.bytesPerSecond = bytesPerSecond; }

  /** Waits until `n` more bytes may be received. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    if (!this.bytesPerSecond) return;
    const now = Date.now();
    this.tokens = Math.min(this.bytesPerSecond * BURST_SECONDS, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
    this.tokens -= n;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens / this.bytesPerSecond) * 1000;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, waitMs);
      signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }
}
