// karakoram pull OWNER/NAME [--revision REV] [--endpoint URL] [--cache-dir DIR | --models-dir DIR]
//   [--connections N] [--range-bytes N] [--limit MBPS]
// Downloads a K2-family model from a Hugging Face–compatible hub: parallel ranges, resumable after
// a crash (the .part files and their range bookkeeping stay), sha256-verified, a progress bar.
// By default into the Hugging Face hub cache (HF_HUB_CACHE / HF_HOME, models--ORG--NAME/...), so
// other tools find it and it finds theirs; --models-dir DIR puts plain files in DIR/ORG--NAME.
import { join } from 'node:path';
import { CONNECTIONS, pullModel, RANGE_BYTES } from '../../models/download.ts';
import { hubCacheDir } from '../../models/hf-cache.ts';
import { intOpt, numOpt, parse } from '../args.ts';
import { ProgressBar } from '../progress-bar.ts';

/** Redraw the terminal line at most this often. */
const REDRAW_MS = 200;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    revision: { type: 'string', default: 'main' },
    endpoint: { type: 'string', default: process.env.HF_ENDPOINT ?? 'https://huggingface.co' },
    'models-dir': { type: 'string' },
    'cache-dir': { type: 'string' },
    connections: { type: 'string' },
    'range-bytes': { type: 'string' },
    limit: { type: 'string' },
  });
  const repo = positionals[0];
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new Error('usage: karakoram pull OWNER/NAME [--revision REV] [--endpoint URL] [--cache-dir DIR | --models-dir DIR] [--connections N] [--range-bytes N] [--limit MB/s]');
  if (values['models-dir'] && values['cache-dir']) throw new Error('pull: give --cache-dir or --models-dir, not both');
  const place = values['models-dir'] ? { dest: join(values['models-dir'], repo.replace('/', '--')) } : { cacheDir: values['cache-dir'] ?? hubCacheDir() };
  const bar = new ProgressBar();
  let drawn = 0;
  const { files, dir } = await pullModel({
    endpoint: values.endpoint.replace(/\/$/, ''), repo, revision: values.revision, ...place, token: process.env.HF_TOKEN,
    connections: intOpt(values.connections, 'connections', CONNECTIONS),
    rangeBytes: intOpt(values['range-bytes'], 'range-bytes', RANGE_BYTES),
    bytesPerSecond: numOpt(values.limit, 'limit', 0) * 2 ** 20,
    onProgress: ({ doneBytes, totalBytes }) => {
      if (!process.stderr.isTTY || Date.now() - drawn < REDRAW_MS) return;
      drawn = Date.now();
      process.stderr.write(`\r${bar.line(doneBytes, totalBytes)}`);
    },
  });
  if (process.stderr.isTTY && drawn) process.stderr.write('\n');
  process.stdout.write(`pull: ${repo}@${values.revision} -> ${dir} (${files.length} files, verified)\n`);
  return 0;
}
