// karakoram run --model DIR (--prompt TEXT | --chat FILE.json | --prompt-ids 1,2,3)
//               [--max-tokens N] [--seed S] [--temperature T] [--top-p P] [--top-k K] [--json]
//               [--backend cpu|cuda] [--mode exact|fast] [--threads N]
//
// --prompt is one user message and --chat a JSON object {"messages": [...], "tools": [...]}: both are
// rendered with the model's chat template, tokenized and generated; text streams as it comes (on a
// terminal reasoning is dim and tool calls are cyan; otherwise reasoning goes to stderr and the
// answer to stdout). --prompt-ids takes ids as they are and prints the generated ids as a JSON
// array (the engine contract of issue 4; the model needs no tokenizer then). --json prints one
// object at the end instead of streaming.
//
// Decoding is greedy unless --temperature is given (then top-p / top-k default to the model's
// generation_config.json): the CLI is the tool that checks outputs against references, and
// greedy runs are reproducible. The app and API use the model's sampling defaults.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage, ToolSpec } from '../../../common/chat-types.ts';
import { loadBinding } from '../../engine/native.ts';
import type { GenerateOptions, LoadOptions } from '../../engine/types.ts';
import {
  collectEvents, emptyOutput, loadTextModel, renderAndEncode, type CollectedOutput, type TextModel,
} from '../../text/index.ts';
import { intOpt, numOpt, parse, required } from '../args.ts';

/** Used when neither --max-tokens nor generation_config.json max_new_tokens says otherwise. */
const DEFAULT_MAX_TOKENS = 256;

const ANSI = { dim: '\x1b[2m', cyan: '\x1b[36m', red: '\x1b[31m', reset: '\x1b[0m' };

interface Prompt { text: string | null; ids: number[]; tools: ToolSpec[] | null }

function parseIds(s: string): number[] {
  const ids = s.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  if (!ids.length || ids.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`--prompt-ids must be comma-separated token ids, got '${s}'`);
  return ids;
}

function readChat(file: string): { messages: ChatMessage[]; tools: ToolSpec[] | null } {
  const obj = JSON.parse(readFileSync(file, 'utf8')) as { messages?: unknown; tools?: unknown };
  if (!Array.isArray(obj.messages)) throw new Error(`${file}: expected a JSON object with a "messages" array`);
  return { messages: obj.messages as ChatMessage[], tools: Array.isArray(obj.tools) ? (obj.tools as ToolSpec[]) : null };
}

/** eos ids of a model without a tokenizer (only for --prompt-ids). */
function eosIdsWithoutTokenizer(dir: string): number[] {
  for (const f of ['generation_config.json', 'config.json']) {
    const p = join(dir, f);
    if (!existsSync(p)) continue;
    const eos = (JSON.parse(readFileSync(p, 'utf8')) as { eos_token_id?: unknown }).eos_token_id;
    const ids = (Array.isArray(eos) ? eos : [eos]).filter((x): x is number => typeof x === 'number');
    if (ids.length) return ids;
  }
  return [];
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    model: { type: 'string' }, prompt: { type: 'string' }, chat: { type: 'string' }, 'prompt-ids': { type: 'string' },
    'max-tokens': { type: 'string' }, seed: { type: 'string' }, temperature: { type: 'string' },
    'top-p': { type: 'string' }, 'top-k': { type: 'string' }, json: { type: 'boolean', default: false },
    backend: { type: 'string' }, mode: { type: 'string' }, threads: { type: 'string' },
  });
  const dir = required(values.model, 'model');
  const sources = [values.prompt, values.chat, values['prompt-ids']].filter((v) => v !== undefined).length;
  if (sources !== 1) throw new Error('give exactly one of --prompt TEXT, --chat FILE.json or --prompt-ids 1,2,3');
  const idsOnly = values['prompt-ids'] !== undefined;

  // The text side: needed for --prompt/--chat, used for --prompt-ids when the model has a tokenizer.
  const hasTokenizer = existsSync(join(dir, 'tiktoken.model'));
  const text: TextModel | null = !idsOnly || hasTokenizer ? await loadTextModel(dir) : null;
  let prompt: Prompt;
  if (idsOnly) prompt = { text: null, ids: parseIds(values['prompt-ids']!), tools: null };
  else {
    const chat = values.chat !== undefined ? readChat(values.chat) : { messages: [{ role: 'user', content: values.prompt! }] as ChatMessage[], tools: null };
    const enc = renderAndEncode(text!, chat.messages, chat.tools);
    prompt = { text: enc.promptText, ids: enc.promptIds, tools: chat.tools };
  }

  const gen = text?.generation;
  const sampled = values.temperature !== undefined;
  const options: GenerateOptions = {
    temperature: sampled ? numOpt(values.temperature, 'temperature', 0) : 0,
    maxTokens: intOpt(values['max-tokens'], 'max-tokens', gen?.maxTokens ?? DEFAULT_MAX_TOKENS),
    stopIds: gen?.stopIds ?? eosIdsWithoutTokenizer(dir),
  };
  if (sampled) {
    options.topP = numOpt(values['top-p'], 'top-p', gen?.topP ?? 1);
    const topK = values['top-k'] !== undefined ? intOpt(values['top-k'], 'top-k', 0) : gen?.topK;
    if (topK !== undefined) options.topK = topK;
  }
  if (values.seed !== undefined) options.seed = intOpt(values.seed, 'seed', 0);

  const loadOptions: LoadOptions = {};
  if (values.backend) loadOptions.backend = values.backend as LoadOptions['backend'];
  if (values.mode) loadOptions.mode = values.mode as LoadOptions['mode'];
  if (values.threads) loadOptions.threads = intOpt(values.threads, 'threads', 0);

  const model = await loadBinding().loadModel(dir, loadOptions);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  options.signal = abort.signal;

  const tty = process.stdout.isTTY === true;
  const stream = !values.json && !idsOnly;
  const parser = text?.createOutputParser({ toolNames: prompt.tools?.map((t) => t.function.name) }) ?? null;
  const collected: CollectedOutput = emptyOutput();
  let lastKind: 'reasoning' | 'content' | null = null;
  const show = (events: ReturnType<NonNullable<typeof parser>['push']>) => {
    collectEvents(events, collected);
    if (!stream) return;
    for (const e of events) {
      if (e.type === 'reasoning') {
        if (tty) process.stdout.write(`${ANSI.dim}${e.delta}${ANSI.reset}`); else process.stderr.write(e.delta);
        lastKind = 'reasoning';
      } else if (e.type === 'content') {
        if (tty && lastKind === 'reasoning') process.stdout.write('\n\n');
        process.stdout.write(e.delta);
        lastKind = 'content';
      } else if (e.type === 'tool_call_end') {
        const line = `[tool call] ${e.call.id} ${e.call.function.name} ${e.call.function.arguments}`;
        process.stdout.write(tty ? `\n${ANSI.cyan}${line}${ANSI.reset}\n` : `\n${line}\n`);
      } else if (e.type === 'error') {
        const line = `[malformed output] ${e.message}: ${e.raw}`;
        process.stderr.write(tty ? `\n${ANSI.red}${line}${ANSI.reset}\n` : `\n${line}\n`);
      }
    }
  };

  try {
    const result = await model.generate(prompt.ids, options, (id) => { if (parser) show(parser.push(id)); });
    if (parser) show(parser.finish(result.finishReason));
    const finishReason = collected.finishReason ?? result.finishReason;
    if (stream) process.stdout.write('\n');
    if (values.json) {
      const seconds = (ms: number) => ms / 1000;
      const out = {
        prompt_text: prompt.text,
        prompt_ids: prompt.ids,
        output_ids: result.outputIds,
        output_text: text ? text.tokenizer.decode(result.outputIds) : null,
        reasoning: collected.reasoning,
        content: collected.content,
        tool_calls: collected.toolCalls,
        errors: collected.errors,
        finish_reason: finishReason,
        usage: { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens },
        timings: {
          prefill_ms: result.prefillMs, decode_ms: result.decodeMs,
          prefill_tok_s: result.prefillMs > 0 ? result.promptTokens / seconds(result.prefillMs) : null,
          decode_tok_s: result.decodeMs > 0 ? result.completionTokens / seconds(result.decodeMs) : null,
        },
      };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else if (idsOnly) {
      process.stdout.write(`${JSON.stringify(result.outputIds)}\n`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    model.dispose();
  }
}
