// karakoram bench --model DIR|--synthetic PRESET[:layers=N] [--prompt-len N] [--gen N] [--threads T] [--mode exact|fast]
//                 [--q4-layout auto|rows]   (rows: skip the load-time repack, for A/B runs)
// karakoram bench --office [--model DIR] [--clients 1,4,16] [--requests N] [--gen N]   (the office
//                 server through its HTTP API: aggregate tok/s, p50 / p95 TTFT per client count; bench-office.ts)
// Prints one JSON object (prefill_tok_s, decode_tok_s, ops, mem_read_gbps, expert_gemv_gbps, ...).
import { loadBinding } from '../../engine/native.ts';
import { intOpt, parse } from '../args.ts';
import { runOfficeBench } from './bench-office.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    model: { type: 'string' }, synthetic: { type: 'string' }, 'prompt-len': { type: 'string' },
    gen: { type: 'string' }, threads: { type: 'string' }, mode: { type: 'string', default: 'exact' },
    'q4-layout': { type: 'string', default: 'auto' },
    office: { type: 'boolean', default: false }, clients: { type: 'string' }, requests: { type: 'string' },
  });
  if (values.office) {
    if (values.synthetic) throw new Error('--office serves a real model directory (default: the demo model), not --synthetic');
    return runOfficeBench({ model: values.model, clients: values.clients, requests: values.requests, gen: values.gen });
  }
  const q4Layout = values['q4-layout'];
  if (q4Layout !== 'auto' && q4Layout !== 'rows') throw new Error(`--q4-layout must be auto or rows, not '${q4Layout}'`);
  if (!values.model === !values.synthetic) throw new Error('give exactly one of --model DIR or --synthetic PRESET[:layers=N]');
  const json = await loadBinding().bench({
    model: values.model, synthetic: values.synthetic, mode: values.mode,
    promptLen: intOpt(values['prompt-len'], 'prompt-len', 64), gen: intOpt(values.gen, 'gen', 16),
    threads: intOpt(values.threads, 'threads', 0), q4Layout,
  });
  process.stdout.write(`${json}\n`);
  return 0;
}
