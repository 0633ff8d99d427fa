// main.ts — `karakoram` subcommand dispatch. Each subcommand lives in commands/NAME.ts and
// exports `run(argv: string[]): Promise<number>` (the exit code). Keep the output contracts the
// issues name stable: other tools parse them.
const COMMANDS: Record<string, { file: string; help: string }> = {
  run: { file: './commands/run.ts', help: 'generate from --prompt-ids, --prompt or --chat' },
  tokenize: { file: './commands/tokenize.ts', help: 'print token ids (or pieces) of a text' },
  eval: { file: './commands/eval.ts', help: 'compare the engine with a reference file' },
  bench: { file: './commands/bench.ts', help: 'benchmark the engine, print one JSON object' },
  synth: { file: './commands/synth.ts', help: 'write a random-weight checkpoint in K2 format' },
  serve: { file: './commands/serve.ts', help: 'serve the app (and API) over HTTP' },
  pull: { file: './commands/pull.ts', help: 'fetch or copy a model into the model store' },
  fit: { file: './commands/fit.ts', help: 'will a model fit this machine (before downloading)' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`);
  return `usage: karakoram <command> [options]\n\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') { process.stdout.write(usage()); return name ? 0 : 2; }
  const cmd = COMMANDS[name];
  if (!cmd) { process.stderr.write(`karakoram: unknown command '${name}'\n${usage()}`); return 2; }
  try {
    const mod = (await import(cmd.file)) as { run(argv: string[]): Promise<number> };
    return await mod.run(rest);
  } catch (e) {
    process.stderr.write(`karakoram ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}
