// paths.ts — where downloaded models live (one definition for the CLI and the model service).
import { homedir } from 'node:os';
import { join } from 'node:path';

export function userModelsDir(): string {
  return process.env.KARAKORAM_MODELS_DIR ?? join(homedir(), '.karakoram', 'models');
}
