// files.ts — the read_file / list_dir built-ins, confined to the folders the user granted. A path
// is taken relative to the first granted folder, or absolute; either way it is resolved through
// every symlink (realpath) and must then lie inside the real path of a granted folder, so `..`,
// a symlink pointing out, or an absolute path elsewhere are refused with a message the model
// can read. Reads are bounded; binary files are refused rather than dumped.
import { closeSync, fstatSync, openSync, readdirSync, readSync, realpathSync, statSync, constants } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ToolSpec } from '../../../common/chat-types.ts';

/** Largest part of a file read_file returns; the rest is announced, not sent. */
export const MAX_READ_BYTES = 256 * 1024;
/** Entries list_dir returns at most. */
export const MAX_DIR_ENTRIES = 1000;
/** A NUL byte in the first this-many bytes marks a file as binary. */
const BINARY_SNIFF_BYTES = 8000;

export class FileAccessError extends Error {}

export const readFileSpec: ToolSpec = {
  type: 'function',
  function: {
    name: 'read_file',
    description: 'Read a UTF-8 text file inside the folders the user has granted.',
    parameters: {
      type: 'object', required: ['path'], additionalProperties: false,
      properties: { path: { type: 'string', description: 'Relative to the first granted folder, or absolute inside a granted folder' } },
    },
  },
};

export const listDirSpec: ToolSpec = {
  type: 'function',
  function: {
    name: 'list_dir',
    description: 'List a folder inside the folders the user has granted.',
    parameters: {
      type: 'object', additionalProperties: false,
      properties: { path: { type: 'string', description: 'Relative to the first granted folder (default: that folder), or absolute inside a granted folder' } },
    },
  },
};

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The real path of `requested` when it lies inside a granted folder; throws FileAccessError otherwise. */
export function confine(granted: string[], requested: string): string {
  const roots = granted.flatMap((g) => { try { return [realpathSync(g)]; } catch { return []; } });
  if (!roots.length) throw new FileAccessError('no folder is granted to the file tools (grant one on the Tools page)');
  if (requested.includes('\0')) throw new FileAccessError('the path contains a NUL byte');
  const candidate = isAbsolute(requested) ? resolve(requested) : resolve(roots[0], requested);
  let real: string;
  try { real = realpathSync(candidate); } catch { throw new FileAccessError(`'${requested}' does not exist`); }
  if (!roots.some((r) => inside(r, real))) {
    throw new FileAccessError(`'${requested}' is outside the granted folders (${roots.join(', ')})`);
  }
  return real;
}

export function readFileConfined(granted: string[], requested: string): { path: string; content: string; truncated: boolean; size: number } {
  const real = confine(granted, requested);
  // O_NOFOLLOW: the file checked above cannot be swapped for a symlink before it is opened.
  let fd: number;
  try { fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW); } catch (e) { throw new FileAccessError(`cannot open '${requested}': ${(e as Error).message}`); }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new FileAccessError(`'${requested}' is a folder: use list_dir`);
    if (!st.isFile()) throw new FileAccessError(`'${requested}' is not a regular file`);
    const n = Math.min(st.size, MAX_READ_BYTES);
    const buf = Buffer.alloc(n);
    let off = 0;
    while (off < n) { const r = readSync(fd, buf, off, n - off, off); if (r === 0) break; off += r; }
    if (buf.subarray(0, Math.min(off, BINARY_SNIFF_BYTES)).includes(0)) throw new FileAccessError(`'${requested}' is a binary file`);
    return { path: real, content: buf.subarray(0, off).toString('utf8'), truncated: st.size > n, size: st.size };
  } finally { closeSync(fd); }
}

export function listDirConfined(granted: string[], requested: string): { path: string; entries: Array<{ name: string; type: 'file' | 'dir' | 'link' | 'other'; size?: number }>; truncated: boolean } {
  const real = confine(granted, requested || '.');
  if (!statSync(real).isDirectory()) throw new FileAccessError(`'${requested}' is not a folder`);
  const all = readdirSync(real, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  const entries = all.slice(0, MAX_DIR_ENTRIES).map((d) => {
    const type = d.isDirectory() ? 'dir' as const : d.isFile() ? 'file' as const : d.isSymbolicLink() ? 'link' as const : 'other' as const;
    if (type !== 'file') return { name: d.name, type };
    let size: number | undefined;
    try { size = statSync(join(real, d.name)).size; } catch { /* vanished */ }
    return { name: d.name, type, ...(size !== undefined ? { size } : {}) };
  });
  return { path: real, entries, truncated: all.length > entries.length };
}
