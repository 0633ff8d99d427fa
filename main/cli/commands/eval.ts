// karakoram eval --model DIR --reference FILE [--backend cpu] [--mode exact|fast] [--requantize int4|off]
// Prints a line per prompt, then exactly one `eval: ... verdict=PASS|FAIL` line; exit 0 only on PASS.
import { loadBinding } from '../../engine/native.ts';
import { intOpt, parse, required } from '../args.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    model: { type: 'string' }, reference: { type: 'string' }, backend: { type: 'string', default: 'cpu' },
    mode: { type: 'string', default: 'exact' }, requantize: { type: 'string', default: 'int4' }, threads: { type: 'string' },
  });
  const mode = values.mode;
  if (mode !== 'exact' && mode !== 'fast') throw new Error(`--mode must be exact or fast, got '${mode}'`);
  if (values.requantize !== 'int4' && values.requantize !== 'off') throw new Error(`--requantize must be int4 or off, got '${values.requantize}'`);
  if (values.backend !== 'cpu' && values.backend !== 'cuda') throw new Error(`--backend must be cpu or cuda, got '${values.backend}'`);
  const summary = await loadBinding().evaluate(
    required(values.model, 'model'), required(values.reference, 'reference'),
    { backend: values.backend, mode, requantize: values.requantize === 'int4', threads: intOpt(values.threads, 'threads', 0) },
    (line) => process.stdout.write(`${line}\n`),
  );
  return summary.pass ? 0 : 1;
}
