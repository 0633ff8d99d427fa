// karakoram tokenize --model DIR (--text T | --file F) [--allow-special] [--pieces]
// Prints the token ids as a JSON array; with --pieces, the pre-tokenizer's pieces (strings) instead.
// Special-token text stays ordinary text unless --allow-special.
import { readFileSync } from 'node:fs';
import { KimiTokenizer } from '../../text/index.ts';
import { parse, required } from '../args.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    model: { type: 'string' }, text: { type: 'string' }, file: { type: 'string' },
    'allow-special': { type: 'boolean', default: false }, pieces: { type: 'boolean', default: false },
  });
  const dir = required(values.model, 'model');
  if ((values.text === undefined) === (values.file === undefined)) throw new Error('give exactly one of --text T or --file F');
  const text = values.text ?? readFileSync(values.file!, 'utf8');
  const tok = KimiTokenizer.fromDir(dir);
  const out = values.pieces ? tok.pieces(text) : tok.encode(text, { allowSpecial: values['allow-special'] });
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}
