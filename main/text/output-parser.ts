// output-parser.ts — splits what the model generates into reasoning, content and tool calls as it
// streams, the way vLLM's and SGLang's kimi_k2 reasoning/tool parsers read K2's output:
//
//   <think>REASONING</think>CONTENT<|tool_calls_section_begin|>
//     <|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{JSON}<|tool_call_end|> ...
//   <|tool_calls_section_end|><|im_end|>
//
// The parser works on text in which special tokens appear as their own text (the id-based front
// end in output-parser-ids.ts writes them so), so literal marker text and special ids read alike,
// and it accepts the singular `<|tool_call_section_begin|>` some K2 builds emit. Reasoning ends at
// `</think>` or at a tool-call section; markers inside reasoning are never parsed as tool calls.
// Malformed calls (bad JSON, unknown tool, missing end) become `error` events carrying the raw
// text, so nothing the model wrote is lost.
import type { FinishReason, OutputEvent, ToolCall } from '../../common/chat-types.ts';
import { toolNameFromId } from './tool-call-id.ts';

export const MARK = {
  thinkOpen: '<think>',
  thinkClose: '</think>',
  sectionBegin: '<|tool_calls_section_begin|>',
  sectionBeginSingular: '<|tool_call_section_begin|>',
  sectionEnd: '<|tool_calls_section_end|>',
  sectionEndSingular: '<|tool_call_section_end|>',
  callBegin: '<|tool_call_begin|>',
  argBegin: '<|tool_call_argument_begin|>',
  callEnd: '<|tool_call_end|>',
} as const;

/** Texts that end the turn; nothing after them is output. */
export const DEFAULT_END_MARKERS = ['<|im_end|>', '[EOS]'];

export interface OutputParserOptions {
  /** Declared tool names; a call to any other name is an error. Omitted: any name is accepted. */
  toolNames?: string[];
  /** The prompt already opened <think> (templates that end the generation prompt with it). */
  startInReasoning?: boolean;
  /** Texts that end the turn (default <|im_end|> and [EOS]). */
  endMarkers?: string[];
}

export interface OutputParser {
  push(text: string): OutputEvent[];
  /** Ends the stream; `stop` becomes `tool_calls` when at least one call was completed. */
  finish(reason: FinishReason): OutputEvent[];
}

type Mode = 'start' | 'reasoning' | 'content' | 'section' | 'header' | 'args' | 'done';

function escapeRegex(s: string): string {
  return s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');
}

/** The incremental parser over text (special tokens written as their text). */
export function createTextOutputParser(opts: OutputParserOptions = {}): OutputParser {
  const endMarkers = opts.endMarkers ?? DEFAULT_END_MARKERS;
  const markers = [...Object.values(MARK), ...endMarkers].sort((a, b) => b.length - a.length);
  const markerRegex = new RegExp(markers.map(escapeRegex).join('|'), 'g');
  const maxMarker = markers[0].length;
  const known = opts.toolNames ? new Set(opts.toolNames) : null;

  let mode: Mode = opts.startInReasoning ? 'reasoning' : 'start';
  let held = '';          // a tail that may be the start of a marker
  let leading = '';       // whitespace before the first output, kept until we know where it goes
  let stray = '';         // non-marker text inside a tool-call section
  let header = '';        // functions.NAME:IDX of the call being read
  let args = '';
  let callIndex = 0;      // index of the next call that begins
  let openIndex = -1;     // index of the call whose begin was emitted, -1 when none
  let completed = 0;
  let events: OutputEvent[] = [];

  const emit = (type: 'reasoning' | 'content', delta: string) => {
    if (!delta) return;
    const last = events[events.length - 1];
    if (last && last.type === type) last.delta += delta;   // one delta per kind per push
    else events.push({ type, delta });
  };
  const error = (message: string, raw: string, index?: number) => {
    events.push(index === undefined ? { type: 'error', message, raw } : { type: 'error', message, raw, index });
  };
  const flushStray = () => {
    if (stray.trim()) error('text outside a tool call in a tool-call section', stray);
    stray = '';
  };
  const rawCall = (withArgs: boolean) =>
    MARK.callBegin + header + (withArgs ? MARK.argBegin + args : '');
  /** A call that never reached <|tool_call_end|>. */
  const abandonCall = () => {
    if (mode === 'header') error('tool call without arguments or <|tool_call_end|>', rawCall(false));
    else if (mode === 'args') error('tool call without <|tool_call_end|>', rawCall(true), openIndex >= 0 ? openIndex : undefined);
    header = ''; args = ''; openIndex = -1;
    mode = 'section';
  };

  function onText(t: string) {
    if (!t) return;
    switch (mode) {
      case 'start':
        if (!(leading + t).trim()) { leading += t; return; }
        mode = 'content'; emit('content', leading + t); leading = ''; return;
      case 'reasoning': emit('reasoning', t); return;
      case 'content': emit('content', t); return;
      case 'section': stray += t; return;
      case 'header': header += t; return;
      case 'args':
        args += t;
        if (openIndex >= 0) events.push({ type: 'tool_call_delta', index: openIndex, delta: t });
        return;
      case 'done': return;
    }
  }

  function beginArgs() {
    const id = header.trim();
    const name = toolNameFromId(id);
    if (name && (!known || known.has(name))) {
      openIndex = callIndex++;
      events.push({ type: 'tool_call_begin', index: openIndex, id, name });
    } else {
      openIndex = -1;   // read the arguments, report the whole call at its end
    }
    args = '';
    mode = 'args';
  }

  function endCall() {
    const id = header.trim();
    const name = toolNameFromId(id);
    let problem: string | null = null;
    if (!name) problem = `tool call id ${JSON.stringify(id)} names no function`;
    else if (known && !known.has(name)) problem = `call to unknown tool ${JSON.stringify(name)}`;
    else {
      try {
        const v: unknown = JSON.parse(args);
        if (v === null || typeof v !== 'object' || Array.isArray(v)) problem = 'tool call arguments are not a JSON object';
      } catch (e) {
        problem = `tool call arguments are not valid JSON: ${(e as Error).message}`;
      }
    }
    if (problem) error(problem, rawCall(true) + MARK.callEnd, openIndex >= 0 ? openIndex : undefined);
    else {
      const call: ToolCall = { id, type: 'function', function: { name: name!, arguments: args } };
      events.push({ type: 'tool_call_end', index: openIndex, call });
      completed += 1;
    }
    header = ''; args = ''; openIndex = -1;
    mode = 'section';
  }

  function onMarker(m: string) {
    if (mode === 'done') return;
    if (endMarkers.includes(m)) {
      if (mode === 'header' || mode === 'args') abandonCall();
      if (mode === 'section') flushStray();
      mode = 'done';
      return;
    }
    const isSectionBegin = m === MARK.sectionBegin || m === MARK.sectionBeginSingular;
    const isSectionEnd = m === MARK.sectionEnd || m === MARK.sectionEndSingular;
    switch (mode) {
      case 'start':
        if (m === MARK.thinkOpen) { mode = 'reasoning'; leading = ''; return; }
        if (isSectionBegin) { mode = 'section'; leading = ''; return; }
        mode = 'content'; emit('content', leading + m); leading = ''; return;
      case 'reasoning':
        if (m === MARK.thinkClose) { mode = 'content'; return; }
        if (isSectionBegin) { mode = 'section'; return; }
        emit('reasoning', m); return;                 // never parse tool calls inside reasoning
      case 'content':
        if (isSectionBegin) { mode = 'section'; return; }
        emit('content', m); return;
      case 'section':
        if (m === MARK.callBegin) { flushStray(); header = ''; mode = 'header'; return; }
        if (isSectionEnd) { flushStray(); mode = 'content'; return; }
        stray += m; return;
      case 'header':
        if (m === MARK.argBegin) { beginArgs(); return; }
        if (m === MARK.callEnd) { error('tool call without <|tool_call_argument_begin|>', rawCall(false) + m); header = ''; mode = 'section'; return; }
        abandonCall(); onMarker(m); return;
      case 'args':
        if (m === MARK.callEnd) { endCall(); return; }
        if (m === MARK.callBegin || isSectionEnd || isSectionBegin) { abandonCall(); onMarker(m); return; }
        onText(m); return;                            // marker text inside JSON stays argument text
    }
  }

  function scan(text: string, final: boolean) {
    let last = 0;
    markerRegex.lastIndex = 0;
    for (const m of text.matchAll(markerRegex)) {
      onText(text.slice(last, m.index));
      onMarker(m[0]);
      last = m.index + m[0].length;
    }
    let rest = text.slice(last);
    if (!final) {
      // Hold the longest tail that could still grow into a marker.
      for (let k = Math.min(maxMarker - 1, rest.length); k > 0; k--) {
        const tail = rest.slice(rest.length - k);
        if (markers.some((mk) => mk.startsWith(tail))) { held = tail; rest = rest.slice(0, rest.length - k); break; }
      }
    }
    onText(rest);
  }

  return {
    push(text) {
      events = [];
      const all = held + text;
      held = '';
      scan(all, false);
      return events;
    },
    finish(reason) {
      events = [];
      const all = held;
      held = '';
      scan(all, true);
      if (mode === 'header' || mode === 'args') abandonCall();
      if (mode === 'section') flushStray();
      if (mode === 'start' && leading) emit('content', leading);
      leading = '';
      mode = 'done';
      events.push({ type: 'finish', reason: reason === 'stop' && completed > 0 ? 'tool_calls' : reason });
      return events;
    },
  };
}
