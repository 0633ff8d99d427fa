// kv-snapshots.ts — read once, across leaving and restarts. While a conversation is open its
// prompt prefix lives in the engine's prefix cache; when it is left (or the core shuts down) the
// cached KV of its last prompt is written as a snapshot file, and the first generation after the
// conversation is reopened — also after a restart — reads the file back into the cache instead
// of prefilling the document again. A file the engine refuses (another model, not a prefix of the
// new prompt, damaged) is removed and the prompt is simply read.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineHost } from '../host/supervisor.ts';

/** Snapshots kept on disk before the least recently used are removed. */
export const SNAPSHOT_BUDGET_BYTES = 16 * 2 ** 30;
/** Prompts shorter than this are prefilled faster than a file is read: not worth a snapshot. */
export const MIN_SNAPSHOT_TOKENS = 256;
const SUFFIX = '.kvsnap';

export class KvSnapshots {
  /** The last prompt each conversation sent to the engine (what its cache holds). */
  private readonly lastPrompt = new Map<string, number[]>();
  /** Conversations whose snapshot was tried since the engine loaded (restored or refused). */
  private readonly tried = new Set<string>();
  private loadedInfo: unknown = null;

  constructor(private readonly dir: string, private readonly host: EngineHost) {}

  private path(conversationId: string): string { return join(this.dir, `${conversationId.replace(/[^\w-]/g, '_')}${SUFFIX}`); }

  /** A fresh engine load holds nothing: every conversation's snapshot may be tried again. */
  private syncWithEngine(): void {
    const info = this.host.status().info;
    if (info !== this.loadedInfo) { this.loadedInfo = info; this.tried.clear(); }
  }

  remember(conversationId: string, promptIds: number[]): void { this.lastPrompt.set(conversationId, promptIds); }

  /** Before generating: restores the conversation's snapshot once per engine load. Returns the
   *  tokens restored (0: none, or refused — then the prompt is read as usual). */
  async restore(conversationId: string, promptIds: number[]): Promise<number> {
    this.syncWithEngine();
    if (this.tried.has(conversationId)) return 0;
    this.tried.add(conversationId);
    const file = this.path(conversationId);
    if (!existsSync(file)) return 0;
    try {
      return await this.host.snapshot('restore', promptIds, file);
    } catch (e) {
      console.error(`karakoram: snapshot of ${conversationId} not used: ${(e as Error).message}`);
      rmSync(file, { force: true });
      return 0;
    }
  }

  /** When the conversation is left: its last prompt's cached KV to disk. Returns tokens saved. */
  async save(conversationId: string): Promise<number> {
    const ids = this.lastPrompt.get(conversationId);
    if (!ids || ids.length < MIN_SNAPSHOT_TOKENS || this.host.status().state !== 'ready') return 0;
    mkdirSync(this.dir, { recursive: true });
    try {
      const n = await this.host.snapshot('save', ids, this.path(conversationId));
      this.lastPrompt.delete(conversationId);
      this.prune();
      return n;
    } catch (e) {
      console.error(`karakoram: could not save the snapshot of ${conversationId}: ${(e as Error).message}`);
      return 0;
    }
  }

  /** Saves every conversation with a remembered prompt (shutdown). */
  async saveAll(): Promise<void> {
    for (const id of [...this.lastPrompt.keys()]) await this.save(id);
  }

  forget(conversationId: string): void {
    this.lastPrompt.delete(conversationId);
    rmSync(this.path(conversationId), { force: true });
  }

  /** Oldest files first until the folder is under budget. */
  private prune(): void {
    const files = readdirSync(this.dir).filter((f) => f.endsWith(SUFFIX)).map((f) => {
      const p = join(this.dir, f);
      const st = statSync(p);
      return { p, size: st.size, mtime: st.mtimeMs };
    }).sort((a, b) => b.mtime - a.mtime);
    let total = 0;
    for (const f of files) {
      total += f.size;
      if (total > SNAPSHOT_BUDGET_BYTES) rmSync(f.p, { force: true });
    }
  }
}
