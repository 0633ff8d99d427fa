// ESLint (flat config). Besides typescript-eslint's recommended rules it enforces the layering:
// the renderer (app/) runs sandboxed in a browser context and may import only common/ and browser
// packages — never Node built-ins, Electron, the native engine or the Node core (main/). Inside
// main/, the direction: text/, store/ and host/ sit below services/ and never import it; only the
// engine process (host/engine-entry.js, host/engine-process.ts), engine/ itself and the CLI load
// the addon (engine/native.ts or a .node file) — everyone else reaches the engine through the host;
// and only store/ opens the database (better-sqlite3): SQL lives there.
// (test/unit/repo/layering.test.ts checks that each rule rejects a wrong import.)
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

const NO_SERVICES = { group: ['**/services', '**/services/**'], message: 'main/text, main/store and main/host sit below main/services and never import it.' };
const NO_ADDON = {
  group: ['**/engine/native', '**/engine/native.ts', '**/*.node'],
  message: 'Only the engine process (main/host/engine-entry.js, engine-process.ts), main/engine/ and the CLI load the addon; reach the engine through the host (main/host/supervisor.ts). Paths of the checkout are in main/paths.ts.',
};
const NO_SQL = { group: ['better-sqlite3'], message: 'SQL lives only in main/store/: add a method to its stores instead of opening the database here.' };
/** The engine process's own modules: the one place outside engine/ and cli/ that loads the addon. */
const ENGINE_PROCESS = ['main/host/engine-entry*', 'main/host/engine-process.ts'];
/** One no-restricted-imports entry per group of files (a later entry's options replace an earlier one's). */
const restrict = (files, patterns, ignores = []) => ({ files, ignores, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['node_modules/**', 'build/**', 'dist/**', 'test-results/**', 'assets/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['app/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'app/ runs in the sandboxed renderer: no Node built-ins.' })),
        patterns: [
          { group: ['electron', 'electron/*'], message: 'app/ must not import Electron; use the preload verbs via the transport.' },
          { group: ['**/native/**', '**/main/**', 'better-sqlite3', 'ws'], message: 'app/ may import only common/ and browser packages.' },
        ],
      }],
    },
  },
  {
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'common/ is shared with the renderer: no Node built-ins.' })),
        patterns: [{ group: ['electron', '**/native/**', '**/main/**', '**/app/**'], message: 'common/ depends on nothing in the project.' }],
      }],
    },
  },
  restrict(['main/**/*.{ts,tsx,js,mjs}'], [NO_ADDON, NO_SQL], ['main/engine/**', 'main/cli/**', ...ENGINE_PROCESS]),
  restrict(['main/engine/**/*.{ts,js,mjs}', 'main/cli/**/*.{ts,js,mjs}'], [NO_SQL]),
  restrict(['main/text/**/*.{ts,js,mjs}', 'main/host/**/*.{ts,js,mjs}'], [NO_SERVICES, NO_ADDON, NO_SQL], ENGINE_PROCESS),
  restrict(['main/store/**/*.{ts,js,mjs}'], [NO_SERVICES, NO_ADDON]),
  restrict(ENGINE_PROCESS, [NO_SERVICES, NO_SQL]),
);
