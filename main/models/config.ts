// config.ts — the language model inside a checkpoint's config.json. K2 / K2-Thinking keep it at the
// top level; K2.5 / K2.6 (KimiK25ForConditionalGeneration) nest it under `text_config`, with
// `quantization_config` either there or at the top level. Everything that sizes or plans a model
// reads it through here, so the nesting is handled once.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type Config = Record<string, unknown>;

export interface TextModelConfig {
  top: Config;                 // the whole config.json
  text: Config;                // the language model's own config (top itself when not nested)
  quant: Config | undefined;   // quantization_config, wherever it was
  multimodal: boolean;         // a vision tower ships beside the text model (K2.5 / K2.6)
  architecture: string;        // top-level architectures[0]
  modelType: string;           // top-level model_type (nested copies vary: key on the top level)
}

export const num = (c: Config, k: string, d = 0): number => (typeof c[k] === 'number' ? (c[k] as number) : d);

export function textModelConfig(top: Config): TextModelConfig {
  const nested = top.text_config && typeof top.text_config === 'object' ? (top.text_config as Config) : undefined;
  const text = nested ?? top;
  const quant = (text.quantization_config ?? top.quantization_config) as Config | undefined;
  return {
    top, text, quant, multimodal: nested !== undefined,
    architecture: Array.isArray(top.architectures) ? String(top.architectures[0]) : 'unknown',
    modelType: String(top.model_type ?? text.model_type ?? 'unknown'),
  };
}

/** Reads DIR/config.json or a config.json path. Throws a message naming the file on bad input. */
export function readConfigFile(pathOrDir: string): Config {
  const p = existsSync(pathOrDir) && statSync(pathOrDir).isDirectory() ? join(pathOrDir, 'config.json') : pathOrDir;
  if (!existsSync(p)) throw new Error(`${p}: no such file (a model directory needs a config.json)`);
  let v: unknown;
  try { v = JSON.parse(readFileSync(p, 'utf8')); } catch (e) { throw new Error(`${p}: ${(e as Error).message}`); }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${p}: expected a JSON object`);
  return v as Config;
}
