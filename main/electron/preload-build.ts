// preload-build.ts — sandboxed preloads cannot run TypeScript or ESM: preload.ts is bundled to
// one CommonJS file (Electron's own module left external) before the window opens.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PRELOAD_SRC = join(dirname(fileURLToPath(import.meta.url)), 'preload.ts');

/** Bundles preload.ts to outFile unless outFile is newer; returns outFile. */
export async function buildPreload(outFile: string): Promise<string> {
  if (existsSync(outFile) && statSync(outFile).mtimeMs >= statSync(PRELOAD_SRC).mtimeMs) return outFile;
  const esbuild = await import('esbuild');
  mkdirSync(dirname(outFile), { recursive: true });
  await esbuild.build({
    entryPoints: [PRELOAD_SRC], outfile: outFile, bundle: true, minify: true, format: 'cjs', platform: 'node',
    external: ['electron'], target: 'es2022', logLevel: 'silent',
  });
  return outFile;
}
