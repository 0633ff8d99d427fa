// chat-template.ts — renders a model's own chat template as HF transformers does
// (apply_chat_template): @huggingface/jinja with trim_blocks and lstrip_blocks on, loop controls,
// `tojson` = json.dumps(ensure_ascii=False) with ", " / ": " separators, tools deep-sorted by key.
//
// Besides the text, it tells which special-token texts came from the template itself and which
// from the caller's strings (message content, tool descriptions, ...): only the former may become
// special ids. It renders with every special-token text inside caller strings swapped for a
// private-use placeholder character, so the rendered text shows where each came from, and then
// swaps them back. The text is identical to a plain render as long as the template does not
// measure or cut caller strings (Kimi's templates do not).
import { Template } from '@huggingface/jinja';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage, ToolSpec } from '../../common/chat-types.ts';
import { deepSortKeys } from './json-order.ts';
import { encodeToolsToTypescript } from './tool-declaration-ts.ts';
import type { TextSegment } from './tokenizer.ts';

export interface RenderOptions {
  tools?: ToolSpec[] | null;
  addGenerationPrompt?: boolean;
  /** Kimi K2.5 / K2.6 `thinking` (default true, as their tokenizer passes it): false asks the
   *  template for the instant mode (`<think></think>` prefilled). Templates without it ignore it. */
  thinking?: boolean;
  /** K2.6 `preserve_thinking` (default false): keep every earlier assistant turn's reasoning. */
  preserveThinking?: boolean;
  /** Extra template variables (HF passes **kwargs of apply_chat_template through). */
  extra?: Record<string, unknown>;
}

/** Private-use planes to draw placeholder characters from; the first one absent from the input. */
const PLACEHOLDER_BASES = [0xf0000, 0x100000, 0xe000];

function escapeRegex(s: string): string {
  return s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');
}

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[f(k)] = mapStrings(x, f);
    return out;
  }
  return v;
}

export class ChatTemplate {
  readonly source: string;
  private readonly template: Template;
  private readonly specials: string[];          // longest first
  private readonly specialRegex: RegExp | null;
  private readonly globals: Record<string, unknown>;
  private readonly readsToolsTs: boolean;

  /**
   * @param source   the Jinja template text
   * @param specials every special-token text of the vocabulary
   * @param globals  variables every render sees (bos_token, eos_token, ...)
   */
  constructor(source: string, specials: string[], globals: Record<string, unknown> = {}) {
    this.source = source;
    this.template = new Template(source);
    // K2.5 / K2.6 templates declare tools from `tools_ts_str`, which their Python tokenizer
    // computes (tool_declaration_ts.py); only such templates get it.
    this.readsToolsTs = /\btools_ts_str\b/.test(source);
    this.specials = [...specials].sort((a, b) => b.length - a.length);
    this.specialRegex = this.specials.length ? new RegExp(this.specials.map(escapeRegex).join('|'), 'g') : null;
    // The library already provides HF's raise_exception, strftime_now, range and namespace.
    this.globals = { ...globals };
  }

  /** The prompt text, exactly as HF transformers renders it. */
  render(messages: ChatMessage[], opts: RenderOptions = {}): string {
    return this.renderSegments(messages, opts).map((s) => s.text).join('');
  }

  /** The prompt as segments: `special` ones are special-token text written by the template. */
  renderSegments(messages: ChatMessage[], opts: RenderOptions = {}): TextSegment[] {
    const tools = opts.tools?.length ? deepSortKeys(opts.tools) : null;
    const input = { messages, tools };
    const regex = this.specialRegex;
    const inputJson = JSON.stringify(input);
    const callerHasSpecial = regex !== null && new RegExp(regex.source).test(inputJson);
    if (!callerHasSpecial) return this.segmentsOf(this.run(input, opts), null);

    const base = PLACEHOLDER_BASES.find((b) => !this.usesRange(inputJson + this.source, b));
    if (base === undefined) throw new Error('chat template: no free placeholder range for special-token text in messages');
    const placeholderOf = new Map(this.specials.map((s, i) => [s, String.fromCodePoint(base + i)]));
    const masked = mapStrings(input, (s) => s.replace(regex, (m) => placeholderOf.get(m)!)) as typeof input;
    return this.segmentsOf(this.run(masked, opts), base);
  }

  private run(input: { messages: unknown; tools: unknown }, opts: RenderOptions): string {
    const vars: Record<string, unknown> = {
      ...this.globals,
      ...opts.extra,
      messages: input.messages,
      tools: input.tools,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      thinking: opts.thinking ?? true,
      preserve_thinking: opts.preserveThinking ?? false,
    };
    if (this.readsToolsTs && Array.isArray(input.tools) && input.tools.length) {
      // tokenization_kimi.py: on a schema the TypeScript form cannot express it leaves
      // tools_ts_str unset, and the template declares the tools as JSON instead.
      try {
        const ts = encodeToolsToTypescript(input.tools);
        if (ts) vars.tools_ts_str = ts;
      } catch { /* JSON declaration, as the shipped code falls back */ }
    }
    return this.template.render(vars);
  }

  private usesRange(text: string, base: number): boolean {
    const end = base + this.specials.length;
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp >= base && cp < end) return true;
    }
    return false;
  }

  /** Splits rendered text into template specials and ordinary text, restoring placeholders. */
  private segmentsOf(rendered: string, base: number | null): TextSegment[] {
    const out: TextSegment[] = [];
    const plain = (t: string) => {
      const last = out[out.length - 1];
      if (last && !last.special) last.text += t; else out.push({ text: t, special: false });
    };
    if (!this.specialRegex) { if (rendered) plain(rendered); return out; }
    let alternatives = this.specialRegex.source;
    if (base !== null) {
      const lo = String.fromCodePoint(base), hi = String.fromCodePoint(base + this.specials.length - 1);
      alternatives += `|[${lo}-${hi}]`;
    }
    const re = new RegExp(alternatives, 'gu');
    let last = 0;
    for (const m of rendered.matchAll(re)) {
      if (m.index > last) plain(rendered.slice(last, m.index));
      const cp = m[0].codePointAt(0)!;
      if (base !== null && cp >= base && cp < base + this.specials.length) plain(this.specials[cp - base]);
      else out.push({ text: m[0], special: true });
      last = m.index + m[0].length;
    }
    if (last < rendered.length) plain(rendered.slice(last));
    return out;
  }
}

/** The model's chat template: tokenizer_config.json `chat_template` (a string, or HF's list of
 *  named templates, of which 'default'), else `chat_template.jinja` beside it. */
export function readChatTemplateSource(dir: string, tokenizerConfig: Record<string, unknown>): string {
  const t = tokenizerConfig.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t as Array<{ name: string; template: string }>;
    const found = named.find((x) => x.name === 'default') ?? named[0];
    if (found) return found.template;
  }
  const file = join(dir, 'chat_template.jinja');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  throw new Error(`${dir}: no chat template (tokenizer_config.json chat_template or chat_template.jinja)`);
}
