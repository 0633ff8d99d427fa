// key-hash.ts — API keys and how they are stored. A key is `kk-<id>-<secret>`: the id is public
// (shown in the app, used to find the row), the secret is 32 random bytes. The database keeps only
// HMAC-SHA256(server secret, key) — a keyed hash; with 256 random bits per key a slow KDF would add
// nothing but latency on every request. The server secret lives in a file of its own (mode 0600)
// beside the database, so a copy of the database alone cannot even test guesses. Comparison is
// constant-time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_PREFIX = 'kk-';
/** Random bytes in a key's public id and in its secret. */
const ID_BYTES = 6;
const SECRET_BYTES = 32;
const SERVER_SECRET_BYTES = 32;
export const SERVER_SECRET_FILE = 'server-secret';
const KEY_RE = /^kk-([0-9a-f]{12})-([A-Za-z0-9_-]{43})$/;

export interface NewKey { id: string; key: string }

export function generateKey(): NewKey {
  const id = randomBytes(ID_BYTES).toString('hex');
  return { id, key: `${KEY_PREFIX}${id}-${randomBytes(SECRET_BYTES).toString('base64url')}` };
}

/** The public id of a well-formed key, else null. */
export function keyId(key: string): string | null {
  return KEY_RE.exec(key)?.[1] ?? null;
}

export function hashKey(serverSecret: Buffer, key: string): string {
  return createHmac('sha256', serverSecret).update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of a stored hash with the hash of a presented key. */
export function hashMatches(serverSecret: Buffer, storedHex: string, key: string): boolean {
  const a = Buffer.from(storedHex, 'hex');
  const b = Buffer.from(hashKey(serverSecret, key), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads the server secret from dataDir, creating it (0600) on first use. */
export function loadServerSecret(dataDir: string): Buffer {
  const file = join(dataDir, SERVER_SECRET_FILE);
  if (existsSync(file)) {
    const b = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (b.length === SERVER_SECRET_BYTES) return b;
    throw new Error(`${file} is damaged (expected ${SERVER_SECRET_BYTES} hex bytes); delete it to start over (every API key then has to be created again)`);
  }
  mkdirSync(dataDir, { recursive: true });
  const b = randomBytes(SERVER_SECRET_BYTES);
  writeFileSync(file, `${b.toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return b;
}
