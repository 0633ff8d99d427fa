// engine-entry.js — the engine process's first module. It registers tsx (TypeScript sources run
// without a build step, as in bin/karakoram.js) and starts engine-process.ts. Works under
// child_process.fork and under Electron's utilityProcess.fork.
import { register } from 'tsx/esm/api';
register();
await import('./engine-process.ts');
