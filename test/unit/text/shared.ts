// shared.ts — where the shared fixtures live ($KK_SHARED, else <repo>/../shared) and their shapes.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage, ToolSpec } from '../../../common/chat-types.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SHARED = process.env.KK_SHARED ?? join(REPO_ROOT, '..', 'shared');
export const DEMO_MODEL = join(SHARED, 'models', 'demo-k2');
export const DEMO_REF = join(SHARED, 'fixtures', 'demo-k2-reference');

export interface ChatGolden {
  messages: ChatMessage[]; tools: ToolSpec[] | null;
  prompt_text: string; prompt_ids: number[]; output_ids: number[]; output_text: string; min_top2_margin: number;
}
export interface TokenizerCase { text: string; ids: number[]; ids_allowing_special: number[] }

export const chatGoldens = (): ChatGolden[] => JSON.parse(readFileSync(join(DEMO_REF, 'chat-goldens.json'), 'utf8'));
export const tokenizerCases = (): TokenizerCase[] => JSON.parse(readFileSync(join(DEMO_REF, 'tokenizer-cases.json'), 'utf8'));
