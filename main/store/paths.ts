// paths.ts — where Karakoram keeps its data: $KARAKORAM_DATA_DIR if set, else the OS's per-user
// application-data directory.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.KARAKORAM_DATA_DIR) return env.KARAKORAM_DATA_DIR;
  const home = homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Karakoram');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Karakoram');
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'karakoram');
}

export const DB_FILE = 'karakoram.sqlite';
