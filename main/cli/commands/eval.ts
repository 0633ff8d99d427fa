// karakoram eval --model DIR --reference FILE [--backend cpu] [--mode exact|fast] [--kv-dtype fp32|bf16|fp8]
//                [--requantize int4|off]   (--kv-dtype: the KV cache precision; exact mode takes only fp32)
// Prints a line per prompt, then exactly one `eval: ... verdict=PASS|FAIL` line; exit 0 only on PASS.
import { loadBinding } from '../../engine/native.ts';
import { intOpt, parse, required } from '../args.ts';
import { isKvDtype, KV_DTYPES } from '../../../common/kv-cache.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    model: { type: 'string' }, reference: { type: 'string' }, backend: { type: 'string', default: 'cpu' },
    mode: { type: 'string', default: 'exact' }, 'kv-dtype': { type: 'string' }, requantize: { type: 'string', default: 'int4' }, threads: { type: 'string' },
  });
  const mode = values.mode;
  if (mode !== 'exact' && mode !== 'fast') throw new Error(`--mode must be exact or fast, got '${mode}'`);
  if (values.requantize !== 'int4' && values.requantize !== 'off') throw new Error(`--requantize must be int4 or off, got '${values.requantize}'`);
  const kvDtype = values['kv-dtype'];
  if (kvDtype !== undefined && !isKvDtype(kvDtype)) throw new Error(`--kv-dtype must be one of ${KV_DTYPES.join(', ')}, not '${kvDtype}'`);
  if (values.backend !== 'cpu' && values.backend !== 'cuda') throw new Error(`--backend must be cpu or cuda, got '${values.backend}'`);
  const summary = await loadBinding().evaluate(
    required(values.model, 'model'), required(values.reference, 'reference'),
    { backend: values.backend, mode, kvDtype, requantize: values.requantize === 'int4', threads: intOpt(values.threads, 'threads', 0) },
    (line) => process.stdout.write(`${line}\n`),
  );
  return summary.pass ? 0 : 1;
}
