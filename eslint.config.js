// ESLint (flat config). Besides typescript-eslint's recommended rules it enforces the layering:
// the renderer (app/) runs sandboxed in a browser context and may import only common/ and browser
// packages — never Node built-ins, Electron, the native engine or the Node core (main/).
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

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
);
