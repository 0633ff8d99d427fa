// calculator.ts — exact arithmetic for the demo `calculator` tool: a small recursive-descent
// parser over + - * / % ^ (or **) and parentheses, computing with rationals of BigInts, so
// 123*45 is 5535 and 1/3 stays 1/3. Never evaluates code.

/** Longest expression accepted (the model writes short ones; this bounds the work). */
const MAX_EXPRESSION_CHARS = 500;
/** Largest exponent magnitude in a ^ b (bounds BigInt growth). */
const MAX_EXPONENT = 1000;
/** Digits after the point in a decimal rendering of a non-integer result. */
const DECIMAL_DIGITS = 12;

interface Rat { n: bigint; d: bigint }

function gcd(a: bigint, b: bigint): bigint { a = a < 0n ? -a : a; b = b < 0n ? -b : b; while (b) [a, b] = [b, a % b]; return a; }
function rat(n: bigint, d = 1n): Rat {
  if (d === 0n) throw new Error('division by zero');
  if (d < 0n) { n = -n; d = -d; }
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}
const add = (a: Rat, b: Rat) => rat(a.n * b.d + b.n * a.d, a.d * b.d);
const sub = (a: Rat, b: Rat) => rat(a.n * b.d - b.n * a.d, a.d * b.d);
const mul = (a: Rat, b: Rat) => rat(a.n * b.n, a.d * b.d);
const div = (a: Rat, b: Rat) => rat(a.n * b.d, a.d * b.n);
function mod(a: Rat, b: Rat): Rat {
  if (b.n === 0n) throw new Error('modulo by zero');
  const q = (a.n * b.d) / (a.d * b.n);         // truncated quotient
  return sub(a, mul(b, rat(q)));
}
function pow(a: Rat, b: Rat): Rat {
  if (b.d !== 1n) throw new Error('only whole-number exponents are supported');
  const e = b.n < 0n ? -b.n : b.n;
  if (e > BigInt(MAX_EXPONENT)) throw new Error(`exponent larger than ${MAX_EXPONENT}`);
  const r = rat(a.n ** e, a.d ** e);
  return b.n < 0n ? div(rat(1n), r) : r;
}

export function formatRational(r: Rat): string {
  if (r.d === 1n) return r.n.toString();
  const neg = r.n < 0n;
  const n = neg ? -r.n : r.n;
  const whole = n / r.d;
  const scale = 10n ** BigInt(DECIMAL_DIGITS);
  let frac = ((n % r.d) * scale / r.d).toString().padStart(DECIMAL_DIGITS, '0').replace(/0+$/, '');
  // Terminating decimals are exact; others get an approximation mark.
  let d = r.d; while (d % 2n === 0n) d /= 2n; while (d % 5n === 0n) d /= 5n;
  const exact = d === 1n;
  if (!frac) frac = '0';
  return `${exact ? '' : '≈'}${neg ? '-' : ''}${whole}.${frac}`;
}

export function evaluate(expression: string): Rat {
  if (expression.length > MAX_EXPRESSION_CHARS) throw new Error(`expression longer than ${MAX_EXPRESSION_CHARS} characters`);
  const src = expression.replace(/[×✕]/g, '*').replace(/[÷]/g, '/').replace(/−/g, '-');
  let i = 0;
  const ws = () => { while (i < src.length && /\s/.test(src[i])) i++; };
  const peek = () => { ws(); return src[i]; };
  function expr(): Rat {
    let v = term();
    for (;;) {
      const c = peek();
      if (c === '+') { i++; v = add(v, term()); } else if (c === '-') { i++; v = sub(v, term()); } else return v;
    }
  }
  function term(): Rat {
    let v = unary();
    for (;;) {
      const c = peek();
      if (c === '*' && src[i + 1] !== '*') { i++; v = mul(v, unary()); }
      else if (c === '/') { i++; v = div(v, unary()); }
      else if (c === '%') { i++; v = mod(v, unary()); }
      else return v;
    }
  }
  function unary(): Rat {
    const c = peek();
    if (c === '-') { i++; return sub(rat(0n), unary()); }
    if (c === '+') { i++; return unary(); }
    return power();
  }
  function power(): Rat {
    const base = atom();
    const c = peek();
    if (c === '^') { i++; return pow(base, unary()); }
    if (c === '*' && src[i + 1] === '*') { i += 2; return pow(base, unary()); }
    return base;
  }
  function atom(): Rat {
    const c = peek();
    if (c === '(') {
      i++;
      const v = expr();
      if (peek() !== ')') throw new Error(`expected ')' at position ${i}`);
      i++;
      return v;
    }
    const m = /^(\d[\d_]*)(?:\.(\d+))?/.exec(src.slice(i)) ?? /^\.(\d+)/.exec(src.slice(i));
    if (!m) throw new Error(c === undefined ? 'unexpected end of expression' : `unexpected '${c}' at position ${i}`);
    i += m[0].length;
    if (m[0].startsWith('.')) return rat(BigInt(m[1]), 10n ** BigInt(m[1].length));
    const whole = BigInt(m[1].replace(/_/g, ''));
    if (!m[2]) return rat(whole);
    const scale = 10n ** BigInt(m[2].length);
    return rat(whole * scale + BigInt(m[2]), scale);
  }
  const v = expr();
  if (peek() !== undefined) throw new Error(`unexpected '${src[i]}' at position ${i}`);
  return v;
}

export function calculate(expression: string): string {
  return formatRational(evaluate(expression));
}
