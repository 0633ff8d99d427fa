// bench-tokenizer.ts — tokenizes a 1 MB mixed English/Chinese text with both BPE backends (the
// `tiktoken` WASM build and `js-tiktoken`) through the same KimiTokenizer, checks they agree, and
// prints one JSON object with tokens per second for each.
//   npx tsx scripts/bench-tokenizer.ts [--model DIR] [--bytes N] [--reps N]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_BPE_BACKEND, type BpeBackendName } from '../main/text/bpe-backend.ts';
import { KimiTokenizer } from '../main/text/tokenizer.ts';
import { readVocabFiles } from '../main/text/vocab-files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: {
  model: { type: 'string', default: join(process.env.KK_SHARED ?? join(root, '..', 'shared'), 'models', 'demo-k2') },
  bytes: { type: 'string', default: String(1 << 20) },
  reps: { type: 'string', default: '3' },
} });

/** Deterministic PRNG (mulberry32), so every run tokenizes the same text. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EN = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
  "you were her all she there would their we him been has when who will more no if out so said what up its about into than them can " +
  "only other new some could time these two may then do first any my now such like our over man me even most made after also did many " +
  "weather Paris calculator expression model tokenizer engine expert routing attention cache don't it's we'll they're I'm " +
  'JavaScript TypeScript WebAssembly HTTPServer camelCase snake_case 2024 3.14159 42 1,000,000').split(' ');
const ZH = '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑讲布杀微怕母调局根曾准团段终乐切级克精哪官示冷域读'.split('');
const ZH_PUNCT = '，。、；：？！“”（）'.split('');

function makeText(targetBytes: number): string {
  const r = rng(20240601);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const parts: string[] = [];
  let bytes = 0;
  while (bytes < targetBytes) {
    let para = '';
    if (r() < 0.5) {
      const sentences = 2 + Math.floor(r() * 5);
      for (let s = 0; s < sentences; s++) {
        const words = Array.from({ length: 6 + Math.floor(r() * 14) }, () => pick(EN));
        words[0] = words[0][0].toUpperCase() + words[0].slice(1);
        para += `${words.join(' ')}${pick(['.', '.', '?', '!', ':'])} `;
      }
    } else {
      const clauses = 3 + Math.floor(r() * 8);
      for (let c = 0; c < clauses; c++) {
        para += Array.from({ length: 4 + Math.floor(r() * 12) }, () => pick(ZH)).join('') + pick(ZH_PUNCT);
        if (r() < 0.15) para += ` ${pick(EN)} ${Math.floor(r() * 10000)} `;
      }
    }
    para = `${para.trimEnd()}\n\n`;
    parts.push(para);
    bytes += Buffer.byteLength(para);
  }
  return parts.join('');
}

function bench(name: BpeBackendName, text: string, reps: number) {
  const files = readVocabFiles(values.model);
  const t0 = performance.now();
  const tok = new KimiTokenizer(files, name);
  const loadMs = performance.now() - t0;
  tok.encode(text.slice(0, 20_000));                    // warm up (JIT, WASM tier-up)
  const times: number[] = [];
  let ids: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    ids = tok.encode(text);
    times.push(performance.now() - s);
  }
  const best = Math.min(...times);
  return { ids, result: { tokens_per_s: Math.round(ids.length / (best / 1000)), best_ms: Math.round(best), load_ms: Math.round(loadMs) } };
}

const text = makeText(Number(values.bytes));
const reps = Number(values.reps);
const wasm = bench('wasm', text, reps);
const js = bench('js', text, reps);
const identical = wasm.ids.length === js.ids.length && wasm.ids.every((id, i) => id === js.ids[i]);
const faster: BpeBackendName = wasm.result.tokens_per_s >= js.result.tokens_per_s ? 'wasm' : 'js';
console.log(JSON.stringify({
  model: values.model, text_bytes: Buffer.byteLength(text), text_chars: text.length, tokens: wasm.ids.length, reps,
  wasm_tiktoken: wasm.result, js_tiktoken: js.result, identical_ids: identical, faster, chosen: DEFAULT_BPE_BACKEND,
}));
if (!identical) process.exitCode = 1;
