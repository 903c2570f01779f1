#!/usr/bin/env node
/**
 * `gantry`: the command line of Gantry's admin API (api.md). It speaks only HTTP to a control
 * plane; failures are one line on stderr and an exit code of exit-codes.ts.
 */
import { Command, CommanderError } from 'commander';
import { apiCommands } from './commands/apis.js';
import { functionCommands } from './commands/functions.js';
import { keysCommands } from './commands/keys.js';
import { loginCommand } from './commands/login.js';
import { logsCommand } from './commands/logs.js';
import { upCommand } from './commands/up.js';
import { usageCommand } from './commands/usage.js';
import { createContext, type Context } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { createOutput } from './output.js';

const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());

const program = new Command('gantry')
  .description('Deploy, invoke and observe functions on a Gantry server (GANTRY_URL and GANTRY_TOKEN override gantry login).')
  .option('--json', 'machine-readable output: the server\'s JSON on stdout')
  .exitOverride()
  .configureOutput({ outputError: () => undefined })
  .showSuggestionAfterError(true);

let context: Context | undefined;
const ctx = (): Context => (context ??= createContext(createOutput(program.opts<{ json?: boolean }>().json === true), stop.signal));

loginCommand(program, ctx);
functionCommands(program, ctx);
logsCommand(program, ctx);
apiCommands(program, ctx);
keysCommands(program, ctx);
usageCommand(program, ctx);
upCommand(program, ctx);
// Subcommands at every depth report bad usage through report(), not by exiting on their own.
const quiet = (c: Command): void => {
  for (const sub of c.commands) {
    sub.exitOverride().configureOutput({ outputError: () => undefined });
    quiet(sub);
  }
};
quiet(program);

try {
  await program.parseAsync(process.argv);
  process.exitCode = EXIT.ok;
} catch (e) {
  process.exitCode = report(e);
}

function report(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
    // No command given: the help was printed (on stderr) instead, which is a usage error.
    if (e.code === 'commander.help') return EXIT.usage;
    process.stderr.write(`gantry: ${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`);
    return EXIT.usage;
  }
  if (e instanceof CliError) {
    process.stderr.write(`gantry: ${e.type === undefined ? '' : `${e.type}: `}${e.message}\n`);
    return e.exitCode;
  }
  if ((e as Error).name === 'AbortError' && stop.signal.aborted) return 130;
  process.stderr.write(`gantry: ${(e as Error).message ?? String(e)}\n`);
  return EXIT.server;
}
