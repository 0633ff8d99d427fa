// karakoram pull OWNER/NAME [--revision REV] [--endpoint URL] [--models-dir DIR] [--connections N]
//   [--range-bytes N] [--limit MBPS]
// Downloads a K2-family model from a Hugging Face–compatible hub: parallel ranges, resumable after
// a crash (the .part files and their range bookkeeping stay), sha256-verified, a progress bar.
import { join } from 'node:path';
import { CONNECTIONS, pullModel, RANGE_BYTES } from '../../models/download.ts';
import { userModelsDir } from '../../models/paths.ts';
import { intOpt, numOpt, parse } from '../args.ts';
import { ProgressBar } from '../progress-bar.ts';

/** Redraw the terminal line at most this often. */
const REDRAW_MS = 200;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    revision: { type: 'string', default: 'main' },
    endpoint: { type: 'string', default: process.env.HF_ENDPOINT ?? 'https://huggingface.co' },
    'models-dir': { type: 'string' },
    connections: { type: 'string' },
    'range-bytes': { type: 'string' },
    limit: { type: 'string' },
  });
  const repo = positionals[0];
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new Error('usage: karakoram pull OWNER/NAME [--revision REV] [--endpoint URL] [--models-dir DIR] [--connections N] [--range-bytes N] [--limit MB/s]');
  const dest = join(values['models-dir'] ?? userModelsDir(), repo.replace('/', '--'));
  const bar = new ProgressBar();
  let drawn = 0;
  const files = await pullModel({
    endpoint: values.endpoint.replace(/\/$/, ''), repo, revision: values.revision, dest, token: process.env.HF_TOKEN,
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
  process.stdout.write(`pull: ${repo}@${values.revision} -> ${dest} (${files.length} files, verified)\n`);
  return 0;
}
