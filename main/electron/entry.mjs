// entry.mjs — Electron's main entry (package.json "main"). Registers the app:// scheme while
// still synchronous (it must happen before the app is ready, which can fire during the awaits
// below), then registers tsx so the TypeScript main process runs without a build step.
import { protocol } from 'electron';
import { register } from 'tsx/esm/api';

protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
]);
register();
await import('./main.ts');
