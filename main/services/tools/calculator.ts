// calculator.ts — the `calculator` tool's arithmetic, on mathjs's expression parser. The tree it
// parses is evaluated here node by node over an allow-list (numbers, + - * / % ^, parentheses,
// pi / e and a few functions), so nothing but arithmetic can run. Rational operations are exact
// (mathjs Fractions on BigInts: 123*45 is 5535, 1/3 stays 1/3 until it is printed); functions
// and irrational powers use 40-digit BigNumbers.
import { all, create, type MathNode } from 'mathjs';

/** Longest expression accepted (the model writes short ones; this bounds the work). */
const MAX_EXPRESSION_CHARS = 500;
/** Largest exponent magnitude in a ^ b (bounds BigInt growth). */
const MAX_EXPONENT = 1000;
/** Digits after the point in a decimal rendering of a non-terminating result. */
const DECIMAL_DIGITS = 12;
/** Significant digits of the BigNumber path (functions, irrational powers). */
const BIGNUMBER_PRECISION = 40;

const exact = create(all, { number: 'Fraction' });
const real = create(all, { number: 'BigNumber', precision: BIGNUMBER_PRECISION });

const BINARY: Record<string, string> = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '%': 'mod', mod: 'mod', '^': 'pow' };
const UNARY: Record<string, string> = { '-': 'unaryMinus', '+': 'unaryPlus' };
const FUNCTIONS = new Set(['sqrt', 'cbrt', 'abs', 'round', 'floor', 'ceil', 'exp', 'log', 'log10', 'log2', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'min', 'max', 'factorial']);
const CONSTANTS = new Set(['pi', 'e']);

/** Not rational: the expression needs the BigNumber path. */
class NeedsReal extends Error {}

type MathJs = typeof exact;
type Value = unknown;

function evalNode(m: MathJs, node: MathNode, rational: boolean): Value {
  const n = node as MathNode & { op?: string; fn?: string | { name: string }; args?: MathNode[]; content?: MathNode; value?: unknown; name?: string };
  switch (node.type) {
    case 'ConstantNode':
      // The parser already made numbers Fractions or BigNumbers (the instance's config).
      if (!m.isFraction(n.value as never) && !m.isBigNumber(n.value as never)) throw new Error(`unexpected '${node.toString()}'`);
      return n.value;
    case 'ParenthesisNode': return evalNode(m, n.content!, rational);
    case 'SymbolNode':
      if (!CONSTANTS.has(n.name!)) throw new Error(`unexpected '${n.name}'`);
      if (rational) throw new NeedsReal();
      return m.evaluate(n.name!);
    case 'OperatorNode': {
      const args = n.args!.map((a) => evalNode(m, a, rational));
      const name = args.length === 1 ? UNARY[n.op!] : BINARY[n.op!];
      if (!name) throw new Error(`unexpected '${n.op}'`);
      if (name === 'pow') {
        const e = Number(m.number(args[1] as never));
        if (!(Math.abs(e) <= MAX_EXPONENT)) throw new Error(`exponent larger than ${MAX_EXPONENT}`);
        if (rational && !Number.isInteger(e)) throw new NeedsReal();
      }
      if ((name === 'divide' || name === 'mod') && m.isZero(args[1] as never)) throw new Error(name === 'mod' ? 'modulo by zero' : 'division by zero');
      return (m as unknown as Record<string, (...a: Value[]) => Value>)[name](...args);
    }
    case 'FunctionNode': {
      const fname = typeof n.fn === 'string' ? n.fn : n.fn?.name;
      if (!fname || !FUNCTIONS.has(fname) || (n.fn as unknown as MathNode).type !== 'SymbolNode') throw new Error(`unexpected '${node.toString()}'`);
      if (rational && fname !== 'abs' && fname !== 'min' && fname !== 'max') throw new NeedsReal();
      const args = n.args!.map((a) => evalNode(m, a, rational));
      return (m as unknown as Record<string, (...a: Value[]) => Value>)[fname](...args);
    }
    default:
      throw new Error(`unexpected '${node.toString()}'`);
  }
}

/** A Fraction as digits: exact when the decimal terminates, else '≈' and DECIMAL_DIGITS digits. */
export function formatFraction(f: { s: bigint; n: bigint; d: bigint }): string {
  const neg = f.s < 0n && f.n !== 0n;
  if (f.d === 1n) return `${neg ? '-' : ''}${f.n}`;
  let d = f.d; while (d % 2n === 0n) d /= 2n; while (d % 5n === 0n) d /= 5n;
  const terminating = d === 1n;
  const scale = 10n ** BigInt(DECIMAL_DIGITS);
  const whole = f.n / f.d;
  const frac = ((f.n % f.d) * scale / f.d).toString().padStart(DECIMAL_DIGITS, '0').replace(/0+$/, '') || '0';
  return `${terminating ? '' : '≈'}${neg ? '-' : ''}${whole}.${frac}`;
}

function formatReal(v: Value): string {
  const s = real.format(v as never, { notation: 'fixed', precision: DECIMAL_DIGITS });
  const trimmed = s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  return real.isInteger(v as never) ? trimmed : `≈${trimmed}`;
}

/** Evaluates an arithmetic expression; throws an Error whose message the model can read. */
export function calculate(expression: string): string {
  if (expression.length > MAX_EXPRESSION_CHARS) throw new Error(`expression longer than ${MAX_EXPRESSION_CHARS} characters`);
  const src = expression.replace(/[×✕]/g, '*').replace(/÷/g, '/').replace(/−/g, '-').replace(/\*\*/g, '^');
  let tree: MathNode;
  try { tree = real.parse(src); } catch (e) { throw new Error(`cannot read the expression: ${(e as Error).message}`); }
  try {
    const v = evalNode(exact, exact.parse(src), true) as { s: bigint; n: bigint; d: bigint };
    if (!exact.isFraction(v)) throw new Error('the result is not a number');
    return formatFraction(v);
  } catch (e) {
    // Irrational steps, and numbers a Fraction cannot hold (1e400), go the BigNumber way.
    if (!(e instanceof NeedsReal) && !/Invalid argument/.test((e as Error).message)) throw e;
  }
  const v = evalNode(real, tree, false);
  if (!real.isBigNumber(v)) throw new Error('the result is not a real number');
  if (!(v as { isFinite(): boolean }).isFinite()) throw new Error('the result is not finite');
  return formatReal(v);
}
