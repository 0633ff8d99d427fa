// context-meter.ts — what the next prompt will cost before it is sent: the exact token count
// (the chat template rendered and tokenized as generation will do it) split into system prompt,
// tools, history, attachments and the message, against the context window and the KV memory it
// needs. When it will not fit, the choices the app offers: drop older turns (a new conversation
// with this message), drop an attachment, or raise the context setting where the model and the
// machine's memory allow. Nothing is ever cut silently: generation refuses what does not fit.
import { freemem } from 'node:os';
import { composeMessage, type DocumentPart } from '../../common/attachments.ts';
import type { ContextCount } from '../../common/contract.ts';
import type { ChatMessage, ToolSpec } from '../../common/chat-types.ts';
import type { ModelText } from './text-port.ts';

/** Tokens kept free for the answer when judging fit and proposing a larger context. */
export const ANSWER_RESERVE_TOKENS = 1024;
/** Context settings are proposed in steps of this many tokens. */
const CONTEXT_STEP = 4096;

export interface MeterInput {
  text: ModelText;
  /** The branch the message will follow, with the system prompt first when there is one. */
  history: ChatMessage[];
  tools: ToolSpec[];
  question: string;
  docs: DocumentPart[];
  thinking?: boolean;
  contextLength: number;       // the window generation uses now
  maxPosition: number;         // the model's own limit
  kvBytesPerToken: number;
  kvBytesCapacity: number;     // KV memory the engine holds now (0: unknown)
}

export function measureContext(m: MeterInput): ContextCount {
  const count = (msgs: ChatMessage[], tools: ToolSpec[] | null) => m.text.encode(msgs, tools, { thinking: m.thinking }).promptIds.length;
  const system = m.history.filter((x) => x.role === 'system');
  const turns = m.history.filter((x) => x.role !== 'system');
  const user = (content: string): ChatMessage => ({ role: 'user', content });
  // Each step adds one part; the differences are that part's tokens as the template places them.
  const sys = count([...system, user('')], null);
  const withTools = m.tools.length ? count([...system, user('')], m.tools) : sys;
  const withHistory = count([...m.history, user('')], m.tools);
  const withQuestion = count([...m.history, user(m.question)], m.tools);
  const total = count([...m.history, user(composeMessage(m.question, m.docs))], m.tools);
  const perDoc = m.docs.map((d) => ({ name: d.name, tokens: Math.max(0, count([...m.history, user(composeMessage(m.question, [d]))], m.tools) - withQuestion) }));
  const needed = total + ANSWER_RESERVE_TOKENS;
  const fits = needed <= m.contextLength;
  const proposed = Math.min(m.maxPosition, Math.ceil(needed / CONTEXT_STEP) * CONTEXT_STEP);
  const extraKv = Math.max(0, proposed * m.kvBytesPerToken - m.kvBytesCapacity);
  const raiseTo = !fits && proposed >= needed && extraKv <= freemem() ? proposed : null;
  return {
    totalTokens: total,
    parts: { system: sys, tools: withTools - sys, history: withHistory - withTools, message: withQuestion - withHistory, attachments: total - withQuestion },
    attachments: perDoc,
    historyTurns: turns.length,
    contextLength: m.contextLength,
    maxPosition: m.maxPosition,
    answerReserve: ANSWER_RESERVE_TOKENS,
    kvBytesPerToken: m.kvBytesPerToken,
    kvBytesNeeded: needed * m.kvBytesPerToken,
    fits,
    raiseContextTo: raiseTo,
  };
}
