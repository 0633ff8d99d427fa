// tool-declaration-ts.ts — the TypeScript-style tool declaration Kimi K2.5 / K2.6 were trained on.
// Their checkpoints render it not in the chat template but in Python shipped beside it
// (tool_declaration_ts.py, called by tokenization_kimi.py's apply_chat_template, which passes the
// result to the template as `tools_ts_str`). This follows that helper's rules:
//
//   # Tools
//
//   ## functions
//   namespace functions {
//   // <description>
//   type NAME = (_: {
//     // <param description>
//     // <constraints, sorted by key: "maxLength: 5, minLength: 1">
//     // Default: <default>
//     required_b: string,
//     optional_a?: number
//   }) => any;
//   }
//
// Required properties first, each group sorted by name; integer is `number`; enums are
// `"a" | "b"`; anyOf and type lists are unions; arrays are `Array<T>` (with the item's comments
// inside when it has any); additionalProperties adds `[k: string]: T` (`any` / `never` for
// true / false); `$defs` become `interface NAME {...}` before the type, and a `$ref` to "#"
// makes the parameters an `interface parameters`. Schemas it cannot express throw (the caller
// then falls back to the JSON declaration, as the shipped code does).
//
// Where JavaScript cannot see what Python sees: a JSON number written `2.0` is a float in Python
// (printed `2.0`) but the integer 2 here, so constraints, enum values and defaults print `2`.
import { compareCodePoints } from './json-order.ts';

type Schema = Record<string, unknown>;

const INDENT = '  ';
const FIELD_DELIMITER = ',\n';
/** Constraint keys each scalar type prints (the helper drops every other keyword). */
const STRING_CONSTRAINTS = ['maxLength', 'minLength', 'pattern'];
const NUMBER_CONSTRAINTS = ['maximum', 'minimum'];
const ARRAY_CONSTRAINTS = ['minItems', 'maxItems'];
/** JSON-schema type names inside a type list, as TypeScript. */
const UNION_TYPES: Record<string, string> = {
  string: 'string', number: 'number', integer: 'number', boolean: 'boolean', null: 'null', object: '{}', array: 'Array<any>',
};

const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Python's str() / repr() of a JSON scalar. */
function pyScalar(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  return String(v);
}

/** json.dumps(v, ensure_ascii=False) with Python's default ", " / ": " separators. */
function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (isObject(v)) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ')}}`;
  return JSON.stringify(v) ?? 'null';
}

function formatDescription(description: string, indent = ''): string {
  return description.split('\n').map((line) => (line ? `${indent}// ${line}` : '')).join('\n');
}

class Registry {
  readonly definitions = new Map<string, unknown>();
  hasSelfRef = false;
  register(defs: unknown): void {
    if (!isObject(defs)) return;
    for (const [k, v] of Object.entries(defs)) this.definitions.set(k, v);
  }
  /** null for the schema itself ("#"). */
  resolve(ref: string): unknown {
    if (ref === '#') { this.hasSelfRef = true; return null; }
    if (ref.startsWith('#/$defs/')) {
      const name = ref.split('/').pop()!;
      if (!this.definitions.has(name)) throw new Error(`Reference not found: ${ref}`);
      return this.definitions.get(name);
    }
    throw new Error(`Unsupported reference format: ${ref}`);
  }
}

abstract class TsType {
  readonly description: string;
  readonly constraints: Array<[string, unknown]>;
  constructor(schema: Schema, constraintKeys: string[] = []) {
    this.description = typeof schema.description === 'string' ? schema.description : '';
    this.constraints = Object.entries(schema).filter(([k]) => constraintKeys.includes(k));
  }
  abstract render(indent: string): string;
  /** Comment lines above a field of this type. */
  docstring(indent: string): string {
    const lines: string[] = [];
    if (this.description) lines.push(formatDescription(this.description, indent));
    if (this.constraints.length) {
      const sorted = [...this.constraints].sort((a, b) => compareCodePoints(a[0], b[0]));
      lines.push(`${indent}// ${sorted.map(([k, v]) => `${k}: ${pyScalar(v)}`).join(', ')}`);
    }
    return lines.map((l) => `${l}\n`).join('');
  }
}

class ScalarType extends TsType {
  constructor(readonly type: string, schema: Schema = {}) {
    super(schema, type === 'string' ? STRING_CONSTRAINTS : type === 'number' || type === 'integer' ? NUMBER_CONSTRAINTS : []);
  }
  render(): string { return this.type === 'integer' ? 'number' : this.type; }
}

interface Field { name: string; type: TsType; optional: boolean; default: unknown }

function renderField(f: Field, indent: string): string {
  let comments = f.type.docstring(indent);
  if (f.default !== undefined && f.default !== null) {
    const repr = typeof f.default === 'number' || typeof f.default === 'boolean' ? pyScalar(f.default) : pyJson(f.default);
    comments += `${indent}// Default: ${repr}\n`;
  }
  return `${comments}${indent}${f.name}${f.optional ? '?' : ''}: ${f.type.render(indent)}`;
}

class ObjectType extends TsType {
  readonly fields: Field[] = [];
  private readonly additional: TsType | boolean | null = null;
  constructor(schema: Schema, registry: Registry) {
    super(schema);
    if (!Object.keys(schema).length) return;
    if ('$defs' in schema) registry.register(schema.$defs);
    const ap = schema.additionalProperties;
    if (ap === true || ap === false) this.additional = ap;
    else if (isObject(ap)) this.additional = parseType(ap, registry);
    else if (ap !== undefined && ap !== null) throw new Error(`Unknown additionalProperties: ${pyJson(ap)}`);
    if (!isObject(schema.properties)) return;
    const required = new Set(Array.isArray(schema.required) ? (schema.required as unknown[]).map(String) : []);
    for (const [name, prop] of Object.entries(schema.properties)) {
      this.fields.push({
        name, type: parseType(prop, registry), optional: !required.has(name),
        default: isObject(prop) ? prop.default : undefined,
      });
    }
  }
  render(indent: string): string {
    const byName = (a: Field, b: Field) => compareCodePoints(a.name, b.name);
    const ordered = [...this.fields.filter((f) => !f.optional).sort(byName), ...this.fields.filter((f) => f.optional).sort(byName)];
    const parts = ordered.map((f) => renderField(f, indent + INDENT));
    if (this.additional !== null) {
      const t = this.additional === true ? 'any' : this.additional === false ? 'never' : this.additional.render(indent + INDENT);
      parts.push(`${indent + INDENT}[k: string]: ${t}`);
    }
    if (!parts.length) return '{}';
    return `{\n${parts.join(FIELD_DELIMITER)}\n${indent}}`;
  }
}

class ArrayType extends TsType {
  private readonly item: TsType;
  constructor(schema: Schema, registry: Registry) {
    super(schema, ARRAY_CONSTRAINTS);
    const items = schema.items;
    const present = items !== undefined && items !== null && items !== false && !(isObject(items) && !Object.keys(items).length);
    this.item = present ? parseType(items, registry) : new ScalarType('any');
  }
  render(indent: string): string {
    const doc = this.item.docstring(indent + INDENT);
    if (!doc) return `Array<${this.item.render(indent)}>`;
    return `Array<\n${doc}${indent}${INDENT}${this.item.render(indent + INDENT)}\n${indent}>`;
  }
}

class EnumType extends TsType {
  private readonly values: unknown[];
  constructor(schema: Schema) {
    super(schema);
    if (!Array.isArray(schema.enum)) throw new Error('enum must be a list');
    this.values = schema.enum;
    if (!('type' in schema)) return;
    let type = schema.type;
    if (Array.isArray(type)) {
      if (type.length === 1) type = type[0];
      else if (type.length === 2 && type.includes('null')) type = type[0] !== 'null' ? type[0] : type[1];
      else throw new Error(`Enum type ${pyJson(type)} is not supported`);
    }
    for (const v of this.values) {
      if (v === null) continue;
      const bad = (type === 'string' && typeof v !== 'string') || (type === 'number' && typeof v !== 'number') ||
        (type === 'integer' && !Number.isInteger(v)) || (type === 'boolean' && typeof v !== 'boolean');
      if (bad) throw new Error(`Enum value ${pyScalar(v)} is not a ${String(type)}`);
    }
  }
  render(): string { return this.values.map((v) => (typeof v === 'string' ? `"${v}"` : pyScalar(v))).join(' | '); }
}

class AnyOfType extends TsType {
  private readonly types: TsType[];
  constructor(schema: Schema, registry: Registry) {
    super(schema);
    if (!Array.isArray(schema.anyOf)) throw new Error('anyOf must be a list');
    this.types = schema.anyOf.map((t) => parseType(t, registry));
  }
  render(indent: string): string { return this.types.map((t) => t.render(indent)).join(' | '); }
}

class UnionType extends TsType {
  private readonly types: string[];
  constructor(schema: Schema) {
    super(schema);
    this.types = (schema.type as unknown[]).map((t) => {
      const ts = UNION_TYPES[String(t)];
      if (!ts) throw new Error(`unsupported type ${pyJson(t)} in a type list`);
      return ts;
    });
  }
  render(): string { return this.types.join(' | '); }
}

class RefType extends TsType {
  private readonly name: string;
  constructor(schema: Schema, registry: Registry) {
    super(schema);
    const ref = String(schema.$ref);
    this.name = registry.resolve(ref) === null ? 'parameters' : ref.split('/').pop()!;
  }
  render(): string { return this.name; }
}

function parseType(schema: unknown, registry: Registry): TsType {
  if (schema === true) return new ScalarType('any');
  if (schema === false) return new ScalarType('null');
  if (!isObject(schema)) throw new Error(`Invalid JSON Schema object: ${pyJson(schema)}`);
  if ('$ref' in schema) return new RefType(schema, registry);
  if ('anyOf' in schema) return new AnyOfType(schema, registry);
  if ('enum' in schema) return new EnumType(schema);
  if ('type' in schema) {
    const t = schema.type;
    if (Array.isArray(t)) return new UnionType(schema);
    if (t === 'object') return new ObjectType(schema, registry);
    if (t === 'array') return new ArrayType(schema, registry);
    return new ScalarType(String(t), schema);
  }
  if (!Object.keys(schema).length) return new ScalarType('any');
  throw new Error(`Invalid JSON Schema object: ${pyJson(schema)}`);
}

function functionToTs(fn: Schema): string {
  const registry = new Registry();
  const params = isObject(fn.parameters) ? fn.parameters : {};
  const parsed = new ObjectType(params, registry);
  const interfaces: string[] = [];
  if (registry.hasSelfRef) {
    const body = parsed.fields.map((f) => renderField(f, INDENT)).join(FIELD_DELIMITER);
    interfaces.push(`interface parameters {${body ? `\n${body}\n` : ''}}`);
  }
  for (const [name, def] of [...registry.definitions]) {
    const body = parseType(def, registry).render('');
    const description = isObject(def) && typeof def.description === 'string' && def.description
      ? `${formatDescription(def.description)}\n` : '';
    interfaces.push(`${description}interface ${name} ${body}`);
  }
  const name = typeof fn.name === 'string' ? fn.name : 'function';
  const typeDef = registry.hasSelfRef
    ? `type ${name} = (_: parameters) => any;`
    : `type ${name} = (_: ${parsed.render('')}) => any;`;
  const description = typeof fn.description === 'string' && fn.description ? formatDescription(fn.description) : '';
  return [interfaces.join('\n'), description, typeDef].filter(Boolean).join('\n');
}

/** The `# Tools` block for OpenAI-shaped tools ({type: 'function', function: {...}}); '' when
 *  there is no function tool. Pass the tools deep-sorted by key, as tokenization_kimi.py does.
 *  Throws on a schema the format cannot express. */
export function encodeToolsToTypescript(tools: unknown[] | null | undefined): string {
  if (!tools?.length) return '';
  const functions: string[] = [];
  for (const tool of tools) {
    if (!isObject(tool) || tool.type !== 'function') continue;   // other tool kinds are skipped
    if (isObject(tool.function) && Object.keys(tool.function).length) functions.push(functionToTs(tool.function));
  }
  if (!functions.length) return '';
  return `# Tools\n\n## functions\nnamespace functions {\n${functions.join('\n')}\n}\n`;
}
