// convert.ts — a block-FP8 checkpoint (K2-Instruct-0905) converted once to INT4 experts with the
// engine's kk_convert, so each load does not pay the conversion again. The output is written to
// OUT.converting and renamed to OUT only when kk_convert succeeded, so a half-converted model is
// never listed as complete; the tokenizer, chat template and generation config are copied beside
// the converted weights (kk_convert writes only weights, index and config).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../paths.ts';

/** Where kk_convert is built: the addon build (npm run build:native) or the CMake build. */
const CONVERTER_CANDIDATES = ['build/addon/kk_convert', 'build/native/kk_convert'];
/** The end of kk_convert's stderr kept for an error message. */
const STDERR_TAIL = 2000;

export function converterPath(): string | null {
  const override = process.env.KARAKORAM_KK_CONVERT;
  if (override) return existsSync(override) ? override : null;
  for (const rel of CONVERTER_CANDIDATES) if (existsSync(join(REPO_ROOT, rel))) return join(REPO_ROOT, rel);
  return null;
}

export interface ConvertProgress { stage: string; fraction: number }

const WRITTEN_BY_CONVERT = (n: string) => n.endsWith('.safetensors') || n === 'model.safetensors.index.json' || n === 'config.json';

export async function convertToInt4(src: string, out: string, onProgress: (p: ConvertProgress) => void = () => undefined): Promise<void> {
  const bin = converterPath();
  if (!bin) throw new Error('kk_convert is not built (npm run build:native builds it beside the addon)');
  if (existsSync(out)) throw new Error(`${out} already exists: remove it or load it`);
  const tmp = `${out}.converting`;
  rmSync(tmp, { recursive: true, force: true });
  let stderr = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(bin, ['--model', src, '--out', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-STDERR_TAIL);
      // kk_convert redraws "\rSTAGE  NN.N%" lines.
      const m = /(\w+)\s+([\d.]+)%[^%]*$/.exec(d.toString());
      if (m) onProgress({ stage: m[1], fraction: Math.min(1, Number(m[2]) / 100) });
    });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const why = /kk_convert: (.*)/.exec(stderr)?.[1] ?? stderr.trim().split(/\r|\n/).pop() ?? '';
    throw new Error(`converting ${src} failed (exit ${code}): ${why}`);
  }
  for (const n of readdirSync(src)) {
    const p = join(src, n);
    if (!WRITTEN_BY_CONVERT(n) && statSync(p).isFile()) copyFileSync(p, join(tmp, n));
  }
  renameSync(tmp, out);
}
