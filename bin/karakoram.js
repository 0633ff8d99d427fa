#!/usr/bin/env node
// The `karakoram` CLI. TypeScript sources run through tsx's loader, so there is no build step
// between editing main/ and running it.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
