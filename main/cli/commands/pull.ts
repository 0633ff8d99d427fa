// karakoram pull OWNER/NAME [--revision REV] [--endpoint URL] [--models-dir DIR]
// Downloads a K2-family model from a Hugging Face–compatible hub (resumable, sha256-verified).
import { join } from 'node:path';
import { pullModel } from '../../models/download.ts';
import { userModelsDir } from '../../models/paths.ts';
import { parse } from '../args.ts';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    revision: { type: 'string', default: 'main' },
    endpoint: { type: 'string', default: process.env.HF_ENDPOINT ?? 'https://huggingface.co' },
    'models-dir': { type: 'string' },
  });
  const repo = positionals[0];
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new Error('usage: karakoram pull OWNER/NAME [--revision REV] [--endpoint URL] [--models-dir DIR]');
  const dest = join(values['models-dir'] ?? userModelsDir(), repo.replace('/', '--'));
  let lastPct = -1;
  const files = await pullModel({
    endpoint: values.endpoint.replace(/\/$/, ''), repo, revision: values.revision, dest, token: process.env.HF_TOKEN,
    onProgress: ({ file, bytes, total }) => {
      const pct = total ? Math.floor((100 * bytes) / total) : 0;
      if (pct !== lastPct && process.stderr.isTTY) process.stderr.write(`\r${file} ${pct}%   `);
      lastPct = pct;
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(`pull: ${repo}@${values.revision} -> ${dest} (${files.length} files)\n`);
  return 0;
}
