// args.ts — small helpers over node:util parseArgs shared by the subcommands.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses argv strictly; unknown flags and missing values become Errors with the flag's name. */
export function parse<T extends Options>(argv: string[], options: T) {
  return parseArgs({ args: argv, options, strict: true, allowPositionals: true });
}

export function intOpt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got '${v}'`);
  return n;
}

export function numOpt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${v}'`);
  return n;
}

export function required(v: string | undefined, name: string): string {
  if (!v) throw new Error(`--${name} is required`);
  return v;
}
