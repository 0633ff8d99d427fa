// settings-store.ts — user settings as JSON values in the settings table, validated on the way
// in and on the way out (a value written by an older build that no longer parses falls back).
import type Database from 'better-sqlite3';
import { SettingsSchema, type Settings, type SettingsPatch } from '../../common/contract.ts';
import { DEFAULT_TOOL_STEPS } from '../../common/tool-policy.ts';

export const DEFAULT_SETTINGS: Settings = {
  sampling: {},
  contextLength: null,
  threads: 0,
  systemPrompt: '',
  defaultTools: [],
  demoTools: true,
  maxToolSteps: DEFAULT_TOOL_STEPS,
  hubEndpoint: null,
  downloadLimitMBps: 0,
  backend: 'auto',
  gpuExpertBudgetGiB: 0,
};

const PUT_SQL = 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value';

export class SettingsStore {
  constructor(private readonly db: Database.Database) {}

  get(): Settings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const r of rows) {
      if (!(r.key in DEFAULT_SETTINGS)) continue;
      try { out[r.key] = JSON.parse(r.value); } catch { /* keep the default */ }
    }
    const parsed = SettingsSchema.safeParse(out);
    if (parsed.success) return parsed.data;
    // Keep every field that is still valid on its own.
    const fixed: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const k of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
      if (SettingsSchema.shape[k].safeParse(out[k]).success) fixed[k] = out[k];
    }
    return fixed as Settings;
  }

  update(patch: SettingsPatch): Settings {
    const put = this.db.prepare(PUT_SQL);
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(patch)) if (v !== undefined && k in DEFAULT_SETTINGS) put.run(k, JSON.stringify(v));
    })();
    return this.get();
  }

  /** A value the app keeps beside the settings (not a user setting, e.g. the last model loaded);
   *  undefined when absent or unreadable. */
  readState(key: string): unknown {
    if (key in DEFAULT_SETTINGS) throw new Error(`${key} is a user setting, not app state`);
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    try { return row ? JSON.parse(row.value) as unknown : undefined; } catch { return undefined; }
  }

  writeState(key: string, value: unknown): void {
    if (key in DEFAULT_SETTINGS) throw new Error(`${key} is a user setting, not app state`);
    this.db.prepare(PUT_SQL).run(key, JSON.stringify(value));
  }
}
