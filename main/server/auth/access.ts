// access.ts — who is calling. Every HTTP route and the WebSocket need a credential: an API key
// (Authorization: Bearer, or x-api-key) or the session cookie a browser gets by logging in with
// one. The person at the workstation holds the owner key: made fresh at each start, kept in
// memory and in <dataDir>/owner-key (0600) so their own tools can read it; it may manage the
// server and goes first in the queue. Keys are looked up by their public id and checked against
// the stored hash in constant time; a revoked key stops at once (listeners close its sockets and
// streams).
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { ApiKeyRow, KeyStore } from '../../store/key-store.ts';
import { generateKey, hashKey, hashMatches, keyId, loadServerSecret } from './key-hash.ts';

export const OWNER_KEY_FILE = 'owner-key';
export const OWNER_ID = 'owner';
export const SESSION_COOKIE = 'kk_session';
/** A browser session lasts this long without a new login. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SESSION_BYTES = 32;
/** Queue priority: lower goes first. The workstation's own user is 0. */
export const OWNER_PRIORITY = 0;
export const KEY_PRIORITY = 1;

export interface Principal {
  keyId: string;
  name: string;
  admin: boolean;
  /** Model names allowed; empty: all. */
  models: string[];
  maxConcurrent: number | null;
  tokensPerMinute: number | null;
  priority: number;
}

export interface KeyScope { name: string; models?: string[]; maxConcurrent?: number | null; tokensPerMinute?: number | null; admin?: boolean }

export function principalOf(row: ApiKeyRow): Principal {
  return {
    keyId: row.id, name: row.name, admin: row.admin, models: row.models, maxConcurrent: row.maxConcurrent,
    tokensPerMinute: row.tokensPerMinute, priority: KEY_PRIORITY,
  };
}

/** The credential a request carries: an API key, or a session token from the cookie. */
export function credentialOf(req: IncomingMessage): { key?: string; session?: string } {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return { key: m[1] };
  }
  const x = req.headers['x-api-key'];
  if (typeof x === 'string' && x) return { key: x.trim() };
  const cookie = req.headers.cookie;
  if (typeof cookie === 'string') {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === SESSION_COOKIE && v.length) return { session: v.join('=') };
    }
  }
  return {};
}

export class Access {
  private readonly secret: Buffer;
  private readonly ownerHash: string;
  readonly ownerKeyFile: string;
  private readonly sessions = new Map<string, { keyId: string; expires: number }>();
  private readonly revokeListeners = new Set<(keyId: string) => void>();
  private readonly owner: Principal = {
    keyId: OWNER_ID, name: 'This workstation', admin: true, models: [], maxConcurrent: null, tokensPerMinute: null, priority: OWNER_PRIORITY,
  };

  constructor(private readonly keys: KeyStore, dataDir: string) {
    this.secret = loadServerSecret(dataDir);
    const owner = generateKey();
    this.ownerHash = hashKey(this.secret, owner.key);
    this.ownerKeyFile = join(dataDir, OWNER_KEY_FILE);
    writeFileSync(this.ownerKeyFile, `${owner.key}\n`, { mode: 0o600 });
    chmodSync(this.ownerKeyFile, 0o600);
    this.ownerId = owner.id;
  }

  private readonly ownerId: string;

  /** Removes the owner key file (shutdown). */
  dispose(): void { rmSync(this.ownerKeyFile, { force: true }); }

  activeKeyCount(): number { return this.keys.activeCount(); }

  /** The principal behind an API key, or null (unknown, malformed, revoked). */
  authenticate(key: string): Principal | null {
    const id = keyId(key);
    if (id === this.ownerId) return hashMatches(this.secret, this.ownerHash, key) ? this.owner : null;
    const row = id ? this.keys.get(id) : null;
    // An unknown id still costs one hash and compare, so timing says nothing about which ids exist.
    const ok = hashMatches(this.secret, row?.hash ?? this.ownerHash, key) && row !== null && row.revokedAt === null;
    return ok && row ? principalOf(row) : null;
  }

  /** The principal of a session token, re-checked against the key on every use. */
  fromSession(token: string): Principal | null {
    const s = this.sessions.get(token);
    if (!s) return null;
    if (s.expires < Date.now()) { this.sessions.delete(token); return null; }
    if (s.keyId === OWNER_ID) return this.owner;
    const row = this.keys.get(s.keyId);
    if (!row || row.revokedAt !== null) { this.sessions.delete(token); return null; }
    return principalOf(row);
  }

  principalFor(req: IncomingMessage): Principal | null {
    const c = credentialOf(req);
    if (c.key) return this.authenticate(c.key);
    if (c.session) return this.fromSession(c.session);
    return null;
  }

  /** A browser logs in with a key: returns a session token for the cookie. */
  login(key: string): { token: string; principal: Principal } | null {
    const p = this.authenticate(key);
    if (!p) return null;
    const token = randomBytes(SESSION_BYTES).toString('base64url');
    this.sessions.set(token, { keyId: p.keyId, expires: Date.now() + SESSION_TTL_MS });
    return { token, principal: p };
  }

  logout(token: string): void { this.sessions.delete(token); }

  /** Creates a key; the key text is returned once and never stored. */
  createKey(scope: KeyScope): { key: string; row: ApiKeyRow } {
    const k = generateKey();
    const row = this.keys.create({
      id: k.id, name: scope.name, hash: hashKey(this.secret, k.key), models: scope.models ?? [],
      maxConcurrent: scope.maxConcurrent ?? null, tokensPerMinute: scope.tokensPerMinute ?? null, admin: scope.admin ?? false,
    });
    return { key: k.key, row };
  }

  revokeKey(id: string): boolean {
    const done = this.keys.revoke(id);
    if (done) {
      for (const [t, s] of this.sessions) if (s.keyId === id) this.sessions.delete(t);
      for (const cb of this.revokeListeners) cb(id);
    }
    return done;
  }

  onRevoke(cb: (keyId: string) => void): () => void {
    this.revokeListeners.add(cb);
    return () => { this.revokeListeners.delete(cb); };
  }
}
