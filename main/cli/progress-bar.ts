// progress-bar.ts — one status line for a download on a terminal: a bar, bytes, speed and ETA.

const BAR_WIDTH = 30;
/** The speed is averaged over this window so the ETA does not jump with every chunk. */
const SPEED_WINDOW_MS = 3000;

const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

function eta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export class ProgressBar {
  private samples: Array<{ t: number; bytes: number }> = [];

  /** The line for `done` of `total` bytes at time `now` (ms). */
  line(done: number, total: number, now = Date.now()): string {
    this.samples.push({ t: now, bytes: done });
    while (this.samples.length > 2 && now - this.samples[0].t > SPEED_WINDOW_MS) this.samples.shift();
    const first = this.samples[0];
    const speed = now > first.t ? ((done - first.bytes) * 1000) / (now - first.t) : 0;
    const frac = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * BAR_WIDTH);
    return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(frac * 100).toFixed(1)}% ${gib(done)}/${gib(total)} ${mib(speed)}/s ETA ${eta(speed > 0 ? (total - done) / speed : Infinity)}`;
  }
}
