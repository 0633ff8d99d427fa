// karakoram synth --preset k2|tiny [--layers N] [--experts N] [--seed S] [--routing-skew S] --out DIR
// Writes a random-weight checkpoint in Kimi-K2-Thinking's exact format.
import { loadBinding } from '../../engine/native.ts';
import { intOpt, numOpt, parse, required } from '../args.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    preset: { type: 'string', default: 'tiny' }, layers: { type: 'string' }, experts: { type: 'string' },
    seed: { type: 'string' }, 'routing-skew': { type: 'string' }, out: { type: 'string' },
  });
  if (values.preset !== 'k2' && values.preset !== 'tiny') throw new Error(`--preset must be k2 or tiny, got '${values.preset}'`);
  const out = required(values.out, 'out');
  let last = '';
  await loadBinding().synth({
    preset: values.preset, out, layers: intOpt(values.layers, 'layers', -1), experts: intOpt(values.experts, 'experts', -1),
    seed: intOpt(values.seed, 'seed', 1), routingSkew: numOpt(values['routing-skew'], 'routing-skew', 0),
  }, (p) => {
    const msg = `${p.stage} ${Math.round(p.fraction * 100)}%`;
    if (msg !== last && process.stderr.isTTY) process.stderr.write(`\r${msg}   `);
    last = msg;
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(`synth: wrote ${values.preset} checkpoint to ${out}\n`);
  return 0;
}
