import { describe, expect, it } from 'vitest';
import { calculate } from '../../../../main/services/tools/calculator.ts';
import { pyJson, ToolRegistry } from '../../../../main/services/tools/builtin.ts';

describe('calculator', () => {
  it('computes exactly', () => {
    expect(calculate('123*45')).toBe('5535');
    expect(calculate('12*(3+4)')).toBe('84');
    expect(calculate('2^64')).toBe('18446744073709551616');
    expect(calculate('2**-2')).toBe('0.25');
    expect(calculate('1/3')).toBe('≈0.333333333333');
    expect(calculate('-(7 - 10) % 2')).toBe('1');
    expect(calculate('0.1 + 0.2')).toBe('0.3');
    expect(calculate('7 × 6 ÷ 3')).toBe('14');
    expect(calculate('17*23')).toBe('391');
    expect(calculate('-1/4')).toBe('-0.25');
  });
  it('takes functions and irrational powers to 12 decimals, marked approximate', () => {
    expect(calculate('2^0.5')).toBe('≈1.414213562373');
    expect(calculate('sqrt(16)')).toBe('4');
    expect(calculate('cos(pi)')).toBe('-1');
    expect(calculate('7 mod 4')).toBe('3');
  });
  it('rejects what is not arithmetic', () => {
    expect(() => calculate('process.exit()')).toThrow(/unexpected/);
    expect(() => calculate('1/0')).toThrow(/division by zero/);
    expect(() => calculate('(1+2')).toThrow(/Parenthesis \) expected/);
    expect(() => calculate('2^100000')).toThrow(/exponent/);
    expect(() => calculate('2^(10*200)')).toThrow(/exponent/);
    expect(() => calculate('1 % 0')).toThrow(/modulo by zero/);
    // mathjs can do far more than arithmetic; none of it is reachable from here.
    for (const x of ['x = 1', 'import({})', 'evaluate("1")', '[1, 2]', '"a"', 'f(x) = x', 'a.b', '1 == 1', 'createUnit("x")']) {
      expect(() => calculate(x), x).toThrow(/unexpected|cannot read/);
    }
  });
});

describe('pyJson', () => {
  it('writes JSON as Python json.dumps does', () => {
    expect(pyJson({ a: 1, b: [true, null, 'x'], c: { d: 'é北' } })).toBe('{"a": 1, "b": [true, null, "x"], "c": {"d": "\\u00e9\\u5317"}}');
  });
});

describe('builtin tools', () => {
  const reg = new ToolRegistry();
  it('weather is deterministic demo data, labelled as such', () => {
    const run = reg.run('get_weather', '{"city": "Paris"}');
    const a = JSON.parse(run.result);
    const b = JSON.parse(reg.run('get_weather', '{"city": "paris"}').result);
    expect(a.city).toBe('Paris');
    expect(a.weather).toBe(b.weather);
    expect(run.note).toMatch(/demo/i);
    // Exactly the shape the demo model was trained to read.
    expect(run.result).toMatch(/^\{"city": "Paris", "weather": "[a-z]+", "temp_c": -?\d+\}$/);
    expect(reg.list().find((t) => t.spec.function.name === 'get_weather')!.label).toMatch(/demo/);
  });
  it('errors are results the model can read', () => {
    expect(reg.run('get_weather', '{"city": ').isError).toBe(true);
    expect(reg.run('nope', '{}').isError).toBe(true);
    expect(reg.run('calculator', '[1]').isError).toBe(true);
    expect(reg.run('calculator', '{"expression": "123*45"}').result).toBe('{"result": 5535}');
    expect(reg.run('calculator', '{"expression": "1/4"}').result).toBe('{"result": "0.25"}');
  });
  it('time reads the clock given', () => {
    const t = JSON.parse(reg.run('get_time', '{"timezone": "UTC"}', new Date('2026-01-02T03:04:05Z')).result);
    expect(t.timezone).toBe('UTC');
    expect(t.time).toMatch(/2026.*03:04:05/);
    expect(reg.run('get_time', '{"timezone": "Mars/Olympus"}').isError).toBe(true);
  });
});
