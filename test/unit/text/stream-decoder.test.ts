import { beforeAll, describe, expect, it } from 'vitest';
import { KimiTokenizer } from '../../../main/text/index.ts';
import { DEMO_MODEL } from './shared.ts';

describe('stream decoder', () => {
  let tok: KimiTokenizer;
  beforeAll(() => { tok = KimiTokenizer.fromDir(DEMO_MODEL); });

  it('holds the bytes of a character split across tokens', () => {
    const d = tok.createStreamDecoder();
    expect([d.push(65), d.push(230), d.push(177), d.push(137), d.push(97)]).toEqual(['A', '', '', '汉', 'a']);
    expect(d.flush()).toBe('');
  });

  it('a 4-byte character split 1+3 and 3+1, and a flush of an incomplete one', () => {
    const bytes = Array.from(new TextEncoder().encode('😀'));
    const d = tok.createStreamDecoder();
    expect(bytes.map((b) => d.push(b)).join('')).toBe('😀');
    expect(d.push(bytes[0])).toBe('');
    expect(d.flush()).toBe('\uFFFD');
    expect(d.push(104)).toBe('h');   // usable again after a flush
  });

  it('streaming any tokenization gives the same text as decode', () => {
    const text = '北京今天天气怎么样？ It is rainy, 12 °C. 😀 done';
    for (const ids of [tok.encode(text), Array.from(new TextEncoder().encode(text))]) {
      const d = tok.createStreamDecoder();
      const streamed = ids.map((id) => d.push(id)).join('') + d.flush();
      expect(streamed).toBe(text);
      expect(tok.decode(ids)).toBe(text);
    }
  });

  it('special ids decode to their text', () => {
    const d = tok.createStreamDecoder();
    expect(d.push(tok.specialIds['<think>'])).toBe('<think>');
  });
});
