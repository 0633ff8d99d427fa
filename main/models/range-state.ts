// range-state.ts — the bookkeeping beside a NAME.part file: which byte ranges arrived complete,
// the sha256 of each as received, and the ETag of the version they came from. It is rewritten
// atomically (temp file + rename) after each range's bytes are written, so a process killed at any
// point resumes from every range it recorded and never trusts one it did not.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export interface RangeState {
  etag: string;                      // the blob's ETag; a different one means a new file version
  size: number;
  rangeBytes: number;
  done: Record<number, string>;      // range index -> sha256 (hex) of its bytes as written
}

export const statePath = (part: string) => `${part}.json`;

export function loadState(part: string, size: number, rangeBytes: number): RangeState | null {
  if (!existsSync(part) || !existsSync(statePath(part))) return null;
  try {
    const s = JSON.parse(readFileSync(statePath(part), 'utf8')) as RangeState;
    // A state for another size or range split cannot be trusted range by range: start over.
    if (s.size !== size || s.rangeBytes !== rangeBytes || typeof s.etag !== 'string' || typeof s.done !== 'object') return null;
    return s;
  } catch {
    return null;  // a damaged bookkeeping file: the bytes are of unknown origin
  }
}

export function saveState(part: string, s: RangeState): void {
  const tmp = `${statePath(part)}.tmp`;
  writeFileSync(tmp, JSON.stringify(s));
  renameSync(tmp, statePath(part));
}

export function dropState(part: string): void {
  rmSync(statePath(part), { force: true });
  rmSync(`${statePath(part)}.tmp`, { force: true });
}

/** The byte ranges [start, end] (inclusive) a file of `size` splits into. */
export function splitRanges(size: number, rangeBytes: number): Array<{ index: number; start: number; end: number }> {
  const out = [];
  for (let i = 0, start = 0; start < size || (size === 0 && i === 0); i++, start += rangeBytes) {
    out.push({ index: i, start, end: Math.min(size, start + rangeBytes) - 1 });
    if (size === 0) break;
  }
  return out;
}
