// builtin.ts — the demo model's tools, run locally: get_weather (deterministic demo data, clearly
// labelled as not real), calculator (exact arithmetic) and get_time (this machine's clock).
// Their declarations match the demo model's training (see shared/fixtures chat-goldens.json).
import type { ToolSpec } from '../../../common/chat-types.ts';
import type { ToolInfo } from '../../../common/contract.ts';
import { calculate } from './calculator.ts';
import { DEMO_SERVER } from '../../../common/tool-policy.ts';

/** result: what the model reads; note: what the card adds for people (never sent to the model). */
export interface ToolRun { result: string; isError: boolean; note?: string }
export interface LocalTool { info: ToolInfo; run(args: Record<string, unknown>, now: Date): ToolRun }

const CONDITIONS = ['sunny', 'cloudy', 'rainy', 'windy', 'snowy', 'foggy'];
/** Demo temperatures span TEMP_MIN_C .. TEMP_MIN_C + TEMP_RANGE_C - 1. */
const TEMP_MIN_C = -5;
const TEMP_RANGE_C = 35;

function hash(s: string): number {
  let h = 2166136261;
  for (const ch of s.toLowerCase().trim()) { h ^= ch.codePointAt(0)!; h = Math.imul(h, 16777619); }
  return h >>> 0;
}

const weatherSpec: ToolSpec = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Retrieve current weather information for a city.',
    parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string', description: 'Name of the city' } } },
  },
};
const calculatorSpec: ToolSpec = {
  type: 'function',
  function: {
    name: 'calculator',
    description: 'Evaluate an arithmetic expression exactly.',
    parameters: { type: 'object', required: ['expression'], properties: { expression: { type: 'string', description: 'For example 12*(3+4)' } } },
  },
};
const timeSpec: ToolSpec = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'Get the current local time, optionally in an IANA time zone.',
    parameters: { type: 'object', properties: { timezone: { type: 'string', description: 'For example Europe/Paris' } } },
  },
};

/**
 * JSON as Python's json.dumps writes it (", " and ": " separators, non-ASCII escaped): the demo
 * model was trained on tool results in exactly this form and answers from nothing else.
 */
export function pyJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`).join(', ')}}`;
}

function ok(v: unknown, note?: string): ToolRun { return { result: pyJson(v), isError: false, ...(note ? { note } : {}) }; }
function fail(message: string): ToolRun { return { result: pyJson({ error: message }), isError: true }; }

export const WEATHER_NOTE = 'Demo data, not a real forecast';

export const BUILTIN_TOOLS: LocalTool[] = [
  {
    info: { spec: weatherSpec, source: 'builtin-demo', server: DEMO_SERVER, label: 'Weather (demo data, not a real forecast)' },
    run(args) {
      const city = typeof args.city === 'string' ? args.city.trim() : '';
      if (!city) return fail('get_weather needs a "city" string');
      const h = hash(city);
      return ok({ city, weather: CONDITIONS[h % CONDITIONS.length], temp_c: TEMP_MIN_C + ((h >>> 8) % TEMP_RANGE_C) }, WEATHER_NOTE);
    },
  },
  {
    info: { spec: calculatorSpec, source: 'builtin-demo', server: DEMO_SERVER, label: 'Calculator (exact arithmetic)' },
    run(args) {
      if (typeof args.expression !== 'string') return fail('calculator needs an "expression" string');
      try {
        const text = calculate(args.expression);
        // Whole numbers the way the model saw them in training: a JSON number.
        const n = Number(text);
        return ok({ result: /^-?\d+$/.test(text) && Number.isSafeInteger(n) ? n : text });
      } catch (e) { return fail((e as Error).message); }
    },
  },
  {
    info: { spec: timeSpec, source: 'builtin-demo', server: DEMO_SERVER, label: 'Clock (this computer)' },
    run(args, now) {
      const tz = typeof args.timezone === 'string' && args.timezone ? args.timezone : Intl.DateTimeFormat().resolvedOptions().timeZone;
      try {
        const local = new Intl.DateTimeFormat('en-GB', { timeZone: tz, dateStyle: 'full', timeStyle: 'long' }).format(now);
        return ok({ timezone: tz, time: local }, `Clock of this computer (${now.toISOString()})`);
      } catch {
        return fail(`unknown time zone '${tz}'`);
      }
    },
  },
];

export class ToolRegistry {
  private readonly tools = new Map<string, LocalTool>();
  constructor(tools: LocalTool[] = BUILTIN_TOOLS) { for (const t of tools) this.tools.set(t.info.spec.function.name, t); }
  list(): ToolInfo[] { return [...this.tools.values()].map((t) => t.info); }
  has(name: string): boolean { return this.tools.has(name); }
  specs(names: string[]): ToolSpec[] { return names.flatMap((n) => (this.tools.has(n) ? [this.tools.get(n)!.info.spec] : [])); }
  /** Runs a call; bad JSON arguments and unknown tools are results the model can read. */
  run(name: string, argumentsJson: string, now = new Date()): ToolRun {
    const tool = this.tools.get(name);
    if (!tool) return fail(`unknown tool '${name}'`);
    let args: unknown;
    try { args = argumentsJson.trim() ? JSON.parse(argumentsJson) : {}; } catch { return fail(`arguments are not valid JSON: ${argumentsJson}`); }
    if (!args || typeof args !== 'object' || Array.isArray(args)) return fail('arguments must be a JSON object');
    return tool.run(args as Record<string, unknown>, now);
  }
}
