// The TypeScript-style tool declaration of Kimi K2.5 / K2.6. Expected strings are derived by hand
// from the rules of the Python helper the checkpoints ship (tool_declaration_ts.py, as vendored in
// public copies, e.g. the one headed "Copied from kimi-k2.5-hf-tokenizer/tool_declaration_ts.py"):
// a "# Tools" / "## functions" / "namespace functions {…}" block; required fields first, each
// group sorted by name, ",\n" between fields; comments for description, sorted constraints and
// "Default: …"; integer -> number; enums quoted; arrays with item comments inside "Array<…>";
// additionalProperties -> "[k: string]: …"; $defs -> interfaces; a "#" $ref -> interface parameters.
import { describe, expect, it } from 'vitest';
import { encodeToolsToTypescript } from '../../../main/text/tool-declaration-ts.ts';

const fn = (f: Record<string, unknown>) => ({ type: 'function', function: f });
const wrap = (body: string) => `# Tools\n\n## functions\nnamespace functions {\n${body}\n}\n`;

describe('encodeToolsToTypescript', () => {
  it('the demo weather tool', () => {
    const tools = [fn({
      name: 'get_weather', description: 'Retrieve current weather information for a city.',
      parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string', description: 'Name of the city' } } },
    })];
    expect(encodeToolsToTypescript(tools)).toBe(wrap([
      '// Retrieve current weather information for a city.',
      'type get_weather = (_: {',
      '  // Name of the city',
      '  city: string',
      '}) => any;',
    ].join('\n')));
  });

  it('enum with a default, optional after required', () => {
    const tools = [fn({
      name: 'get_weather', description: 'Get the weather.',
      parameters: {
        type: 'object', required: ['city'],
        properties: {
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'], description: 'Temperature unit', default: 'celsius' },
          city: { type: 'string', description: 'City name' },
        },
      },
    })];
    expect(encodeToolsToTypescript(tools)).toBe(wrap([
      '// Get the weather.',
      'type get_weather = (_: {',
      '  // City name',
      '  city: string,',
      '  // Temperature unit',
      '  // Default: "celsius"',
      '  unit?: "celsius" | "fahrenheit"',
      '}) => any;',
    ].join('\n')));
  });

  it('constraints, integer, arrays, nested objects, unions, anyOf and $defs', () => {
    const tools = [fn({
      name: 'search',
      parameters: {
        type: 'object', required: ['query'],
        properties: {
          query: { type: 'string', minLength: 1, maxLength: 200, description: 'What to look for' },
          limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
          tags: { type: 'array', items: { type: 'string', description: 'One tag' }, maxItems: 5 },
          filters: { type: 'object', properties: { lang: { type: ['string', 'null'] } }, additionalProperties: false },
          sort: { anyOf: [{ type: 'string' }, { $ref: '#/$defs/Order' }] },
        },
        $defs: { Order: { type: 'object', description: 'A sort order', properties: { field: { type: 'string' }, desc: { type: 'boolean' } }, required: ['field'] } },
      },
    })];
    expect(encodeToolsToTypescript(tools)).toBe(wrap([
      '// A sort order',
      'interface Order {',
      '  field: string,',
      '  desc?: boolean',
      '}',
      'type search = (_: {',
      '  // What to look for',
      '  // maxLength: 200, minLength: 1',
      '  query: string,',
      '  filters?: {',
      '    lang?: string | null,',
      '    [k: string]: never',
      '  },',
      '  // maximum: 50, minimum: 1',
      '  // Default: 10',
      '  limit?: number,',
      '  sort?: string | Order,',
      '  // maxItems: 5',
      '  tags?: Array<',
      '    // One tag',
      '    string',
      '  >',
      '}) => any;',
    ].join('\n')));
  });

  it('a self-reference makes the parameters an interface (fields in their given order)', () => {
    const tools = [fn({
      name: 'tree', description: 'Walk a tree.',
      parameters: { type: 'object', required: ['value'], properties: { value: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } } },
    })];
    expect(encodeToolsToTypescript(tools)).toBe(wrap([
      'interface parameters {',
      '  value: string,',
      '  children?: Array<parameters>',
      '}',
      '// Walk a tree.',
      'type tree = (_: parameters) => any;',
    ].join('\n')));
  });

  it('no parameters, several tools, multi-line descriptions, untyped items', () => {
    const tools = [
      fn({ name: 'now', description: 'The time.\n\nIn UTC.' }),
      { type: '_plugin', _plugin: { name: 'x' } },           // other kinds are skipped
      fn({ name: 'sum', parameters: { type: 'object', properties: { xs: { type: 'array' } }, required: ['xs'] } }),
    ];
    expect(encodeToolsToTypescript(tools)).toBe(wrap([
      '// The time.',
      '',
      '// In UTC.',
      'type now = (_: {}) => any;',
      'type sum = (_: {',
      '  xs: Array<any>',
      '}) => any;',
    ].join('\n')));
  });

  it('nothing to declare is the empty string; schemas it cannot express throw', () => {
    expect(encodeToolsToTypescript([])).toBe('');
    expect(encodeToolsToTypescript(null)).toBe('');
    expect(encodeToolsToTypescript([{ type: '_plugin' }])).toBe('');
    expect(() => encodeToolsToTypescript([fn({ name: 'f', parameters: { type: 'object', properties: { a: { oneOf: [] } } } })])).toThrow(/Invalid JSON Schema/);
    expect(() => encodeToolsToTypescript([fn({ name: 'f', parameters: { type: 'object', properties: { a: { $ref: '#/$defs/Nope' } } } })])).toThrow(/Reference not found/);
    expect(() => encodeToolsToTypescript([fn({ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string', enum: [1] } } } })])).toThrow(/not a string/);
  });
});
