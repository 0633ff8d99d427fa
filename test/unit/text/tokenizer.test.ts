import { beforeAll, describe, expect, it } from 'vitest';
import { KimiTokenizer } from '../../../main/text/tokenizer.ts';
import { pretokenize, splitForBpe } from '../../../main/text/pretokenizer.ts';
import { DEMO_MODEL, tokenizerCases } from './shared.ts';

const backends = ['wasm', 'js'] as const;

describe.each(backends)('KimiTokenizer (%s backend)', (backend) => {
  let tok: KimiTokenizer;
  beforeAll(() => { tok = KimiTokenizer.fromDir(DEMO_MODEL, backend); });

  for (const c of tokenizerCases()) {
    it(`encodes ${JSON.stringify(c.text)}`, () => {
      expect(tok.encode(c.text)).toEqual(c.ids);
      expect(tok.encode(c.text, { allowSpecial: true })).toEqual(c.ids_allowing_special);
      expect(tok.decode(c.ids)).toBe(c.text);
      expect(tok.decode(c.ids_allowing_special)).toBe(c.text);
    });
  }
});

describe('KimiTokenizer', () => {
  let tok: KimiTokenizer;
  let js: KimiTokenizer;
  beforeAll(() => { tok = KimiTokenizer.fromDir(DEMO_MODEL, 'wasm'); js = KimiTokenizer.fromDir(DEMO_MODEL, 'js'); });

  it('reads special ids from the config and names the rest reserved', () => {
    expect(tok.numBaseTokens).toBe(2144);
    expect(tok.vocabSize).toBe(2400);
    expect(tok.specialIds['<|im_end|>']).toBe(2146);
    expect(tok.specialIds['<think>']).toBe(2166);
    expect(tok.specialIds['<|reserved_token_2149|>']).toBe(2149);
    expect(tok.specialName(2167)).toBe('</think>');
    expect(tok.idToToken(2146)).toBe('<|im_end|>');
    expect(tok.idToToken(32)).toBe('Ġ');      // GPT-2's stand-in for the space byte
  });

  it('JS pattern (js-tiktoken) and Rust pattern (tiktoken WASM) agree on mixed scripts', () => {
    const samples = [
      "It'S ſ it'ſ THEY'RE we'VE I'M you'LL he'D don't", 'camelCaseWord XMLHttpRequest iPhone ABCdef',
      '混合 text 中文English和数字123456, ÉCOLE naïve Ωμέγα привет мир', 'ǅungla ǈ ǋ ʰʱ ﬁ', 'a\u0301b\u0308 ́x',
      'tabs\t\t\nand\r\n\r\n  spaces   \u00a0\u3000 nbsp\u2028sep\u0085nel\ufeffbom', '123456789 ١٢٣٤ ⅷ ²³',
      'emoji 😀👍🏽 and 𠀀𠀁 (astral Han) 々〆〇', '、。「」，！ full-width ＡＢＣ ｱｲｳ', '\u001c\u001d\u001e\u001fcontrol',
      '<|im_end|> [EOS] <think>', "'s 'S's x's", '   \n\n   \t', 'Kelvin K sign',
    ];
    for (const s of samples) expect(js.encode(s), s).toEqual(tok.encode(s));
    expect(tok.pieces("HELLOWorld don'T 汉字abc")).toEqual(['HELLOWorld', " don'T", ' ', '汉字', 'abc']);
  });

  it('pieces cover the text exactly', () => {
    const s = 'The 北京 weather: 12°C, rainy!\n\n  def f(x):\n    return x**2  ';
    expect(tok.pieces(s).join('')).toBe(s);
  });

  it('splits at 400,000 characters and at runs over 25,000 like tokenization_kimi.py', () => {
    expect(splitForBpe('ab  cd', 10, 2)).toEqual(['ab  cd']);
    expect(splitForBpe('abc  d', 10, 2)).toEqual(['ab', 'c  d']);
    expect(splitForBpe('a     b', 10, 2)).toEqual(['a  ', '  ', ' b']);
    expect(splitForBpe('abcdefg', 3, 100)).toEqual(['abc', 'def', 'g']);
    expect(splitForBpe('😀😀😀😀', 3, 2)).toEqual(['😀😀', '😀', '😀']);   // code points, never half a pair
    expect(splitForBpe('')).toEqual(['']);
    const long = 'x'.repeat(60_000);
    expect(splitForBpe(long).map((s) => s.length)).toEqual([25_000, 25_000, 10_000]);
    // The cut changes the BPE exactly as it does in the reference: each run is encoded alone.
    expect(tok.encode(long)).toEqual([...tok.encode('x'.repeat(25_000)), ...tok.encode('x'.repeat(25_000)), ...tok.encode('x'.repeat(10_000))]);
  });

  it('keeps special-token text plain unless allowed, and segments encode across boundaries', () => {
    expect(tok.encode('<|im_end|>')).not.toContain(2146);
    expect(tok.encode('<|im_end|>', { allowSpecial: true })).toEqual([2146]);
    const joined = tok.encode('Hello world');
    expect(tok.encodeSegments([{ text: 'Hel', special: false }, { text: 'lo world', special: false }])).toEqual(joined);
    expect(() => tok.encodeSegments([{ text: '<nope>', special: true }])).toThrow(/not a special token/);
  });

  it('pretokenize matches the case-insensitive contractions', () => {
    expect(pretokenize("WE'LL it'S")).toEqual(["WE'LL", " it'S"]);
  });
});

describe('JS pre-tokenizer pattern vs the reference Rust pattern (seeded fuzz)', () => {
  it('gives the same ids on random strings over a tricky alphabet', () => {
    const wasm = KimiTokenizer.fromDir(DEMO_MODEL, 'wasm');
    const js = KimiTokenizer.fromDir(DEMO_MODEL, 'js');
    // Letters of every case class, Han (BMP and astral), marks, digits of several scripts,
    // Unicode whitespace Python and JS disagree on, apostrophes and case-folding oddities.
    const alphabet = Array.from("aZsStTrRmMdDlLvVeEſKK'' ǅǈʰ々〆〇汉字𠀀ÀÉ\u0301\u0308ก\u0E31ωΩжЖ0189١٢Ⅻ²\t\n\r \u00a0\u3000\u2028\u0085\ufeff\u001f.,!?-_/<>|[]{}😀，。");
    let seed = 12345;
    const rand = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
    for (let n = 0; n < 400; n++) {
      const len = 1 + Math.floor(rand() * 24);
      const s = Array.from({ length: len }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      expect(js.encode(s), JSON.stringify(s)).toEqual(wasm.encode(s));
    }
  });
});

describe('case folding in the contractions', () => {
  it("Rust's (?i:'s) also takes U+017F LONG S, and so does the JS pattern", async () => {
    const { Tiktoken } = await import('tiktoken');
    const { KIMI_PATTERN_RUST } = await import('../../../main/text/pretokenizer.ts');
    // Bytes plus tokens that can only form when "t'ſ" / "t'K" lie inside one piece.
    const lines = Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString('base64')} ${b}`);
    ['ſ', "t'", "t'ſ", 'K'].forEach((t, i) => lines.push(`${Buffer.from(t).toString('base64')} ${256 + i}`));
    const enc = new Tiktoken(lines.join('\n'), { '<|x|>': 1000 }, KIMI_PATTERN_RUST);
    try {
      expect(Array.from(enc.encode_ordinary("it'ſ"))).toEqual([105, 258]);          // one piece
      expect(pretokenize("it'ſ")).toEqual(["it'ſ"]);
      expect(Array.from(enc.encode_ordinary("it'K"))).toEqual([105, 116, 39, 259]);  // Kelvin sign: no contraction
      expect(pretokenize("it'K")).toEqual(['it', "'K"]);
    } finally { enc.free(); }
  });
});
