// range-fetch.ts — one byte range of one file: GET with Range (+ If-Range so a changed file is
// noticed), the bytes written at their offset, sha256 computed while they stream. When the server
// sends a Content-Digest (RFC 9530) for the range, a mismatch is caught here, so only that range
// is fetched again.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { hubHeaders, httpError, resolveUrl, type HubAccess } from './hub-files.ts';
import type { Throttle } from './throttle.ts';

/** Worth another attempt (after a backoff): the network, the hub's 5xx, a range that arrived damaged. */
export class TransientError extends Error {}
/** The file on the hub is no longer the version the .part began with: its ranges must start over. */
export class ChangedError extends Error {}

export interface RangeJob { path: string; size: number; start: number; end: number; etag: string }

/** Disk full or file too large: say so plainly (the .part stays; nothing is renamed into place). */
export function diskError(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EFBIG' || code === 'EDQUOT') {
    return new Error(`disk full writing ${path} (${code}): free some space and pull again; the download resumes where it stopped`);
  }
  return e;
}

function contentDigest(r: Response): string | null {
  const m = /sha-256=:([A-Za-z0-9+/=]+):/.exec(r.headers.get('content-digest') ?? '');
  return m ? Buffer.from(m[1], 'base64').toString('hex') : null;
}

/**
 * Fetches bytes [start, end] of `job.path` into `fh` at the same offsets. Returns the sha256 of
 * the bytes and the ETag the server gave (the first range of a fresh file learns it here).
 */
export async function fetchRange(a: HubAccess, job: RangeJob, fh: FileHandle, partPath: string, throttle: Throttle,
  onBytes: (n: number) => void): Promise<{ sha256: string; etag: string }> {
  const whole = job.start === 0 && job.end === job.size - 1;
  const extra: Record<string, string> = { range: `bytes=${job.start}-${job.end}`, ...(job.etag ? { 'if-range': job.etag } : {}) };
  let r: Response;
  try { r = await fetch(resolveUrl(a, job.path), { headers: hubHeaders(a, extra), signal: a.signal }); } catch (e) {
    if (a.signal?.aborted) throw e;
    throw new TransientError(`${job.path}: ${(e as Error).message}`);
  }
  if (r.status >= 500) { await r.body?.cancel(); throw new TransientError(`${job.path}: HTTP ${r.status}`); }
  if (!r.ok) { await r.body?.cancel(); throw httpError(job.path, r, a); }
  const etag = r.headers.get('etag') ?? '';
  if (r.status === 200 && !whole) {
    await r.body?.cancel();
    // If-Range failed (a new version) or a server without ranges: the recorded ranges are void.
    throw new ChangedError(`${job.path}: the hub sent the whole file for a range request (a new version, ETag ${etag || 'none'})`);
  }
  if (job.etag && etag && etag !== job.etag) { await r.body?.cancel(); throw new ChangedError(`${job.path}: ETag changed from ${job.etag} to ${etag}`); }
  const hash = createHash('sha256');
  let pos = job.start;
  try {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      if (pos + chunk.length > job.end + 1) throw new TransientError(`${job.path}: the server sent more than the range ${job.start}-${job.end}`);
      await throttle.take(chunk.length, a.signal);
      try { await fh.write(chunk, 0, chunk.length, pos); } catch (e) { throw diskError(e, partPath); }
      hash.update(chunk);
      pos += chunk.length;
      onBytes(chunk.length);
    }
  } catch (e) {
    if (a.signal?.aborted || !(e instanceof Error) || e instanceof TransientError || /disk full/.test(e.message)) throw e;
    throw new TransientError(`${job.path}: connection dropped at byte ${pos} (${e.message})`);
  }
  if (pos !== job.end + 1) throw new TransientError(`${job.path}: connection ended at byte ${pos} of range ${job.start}-${job.end}`);
  const sha256 = hash.digest('hex');
  const want = contentDigest(r);
  if (want && want !== sha256) throw new TransientError(`${job.path}: range ${job.start}-${job.end} arrived damaged (Content-Digest mismatch)`);
  return { sha256, etag };
}
