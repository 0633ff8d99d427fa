// paths.ts — where this checkout's own files are: the repository root and what is built under it.
// Kept apart from the addon loader (engine/native.ts) so that finding a bundled file never means
// importing the module that loads the engine (only the engine process and the CLI may: ESLint).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The built renderer (npm run build:app), served by Electron's app:// protocol and by karakoram serve. */
export const RENDERER_DIR = join(REPO_ROOT, 'dist', 'app');
