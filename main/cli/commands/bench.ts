// karakoram bench --model DIR|--synthetic PRESET[:layers=N] [--prompt-len N] [--gen N] [--threads T] [--mode exact|fast]
//                 [--kv-dtype fp32|bf16|fp8]   (KV cache precision; exact mode takes only fp32)
//                 [--q4-layout auto|rows]   (rows: skip the load-time repack, for A/B runs)
//                 [--prefix-len N [--follow-len N]] [--concurrency 1,2,4,8]
// karakoram bench --office [--model DIR] [--clients 1,4,16] [--requests N] [--gen N]   (the office
//                 server through its HTTP API: aggregate tok/s, p50 / p95 TTFT per client count; bench-office.ts)
// Prints one JSON object (prefill_tok_s, decode_tok_s, ops, mem_read_gbps, expert_gemv_gbps,
// kv_dtype, kv_bytes_per_token, kv_bytes_per_token_by_dtype, ...). --prefix-len adds ttft_fresh_ms / ttft_prefix_hit_ms / ttft_snapshot_ms
// of a --follow-len-token follow-up (default 32); --concurrency adds `concurrency`: a list of
// {sequences, aggregate_decode_tok_s, bytes_per_step, read_fraction} (--gen steps each).
import { loadBinding } from '../../engine/native.ts';
import { intOpt, parse } from '../args.ts';
import { isKvDtype, KV_DTYPES } from '../../../common/kv-cache.ts';
import { runOfficeBench } from './bench-office.ts';

function counts(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => Number(s.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--concurrency takes positive integers separated by commas, not '${v}'`);
  return list;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    model: { type: 'string' }, synthetic: { type: 'string' }, 'prompt-len': { type: 'string' },
    gen: { type: 'string' }, threads: { type: 'string' }, mode: { type: 'string', default: 'exact' },
    'q4-layout': { type: 'string', default: 'auto' }, 'kv-dtype': { type: 'string' },
    'prefix-len': { type: 'string' }, 'follow-len': { type: 'string' }, concurrency: { type: 'string' },
    office: { type: 'boolean', default: false }, clients: { type: 'string' }, requests: { type: 'string' },
  });
  if (values.office) {
    if (values.synthetic) throw new Error('--office serves a real model directory (default: the demo model), not --synthetic');
    return runOfficeBench({ model: values.model, clients: values.clients, requests: values.requests, gen: values.gen });
  }
  const q4Layout = values['q4-layout'];
  if (q4Layout !== 'auto' && q4Layout !== 'rows') throw new Error(`--q4-layout must be auto or rows, not '${q4Layout}'`);
  const kvDtype = values['kv-dtype'];
  if (kvDtype !== undefined && !isKvDtype(kvDtype)) throw new Error(`--kv-dtype must be one of ${KV_DTYPES.join(', ')}, not '${kvDtype}'`);
  if (!values.model === !values.synthetic) throw new Error('give exactly one of --model DIR or --synthetic PRESET[:layers=N]');
  const json = await loadBinding().bench({
    model: values.model, synthetic: values.synthetic, mode: values.mode, kvDtype,
    promptLen: intOpt(values['prompt-len'], 'prompt-len', 64), gen: intOpt(values.gen, 'gen', 16),
    threads: intOpt(values.threads, 'threads', 0), q4Layout,
    prefixLen: intOpt(values['prefix-len'], 'prefix-len', 0), followLen: intOpt(values['follow-len'], 'follow-len', 32),
    concurrency: counts(values.concurrency),
  });
  process.stdout.write(`${json}\n`);
  return 0;
}
