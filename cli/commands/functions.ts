/** `gantry deploy`, `invoke`, `ls`, `rm`: functions (api.md, Functions and Invoking directly). */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { errorOf } from '../api-client.js';
import type { Context } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { deployFunction } from '../function-deployer.js';
import { functionPath, type FunctionConfig, type FunctionSettings } from '../function-types.js';
import { record, table } from '../output.js';
import { zipFolder } from '../zip-folder.js';

export function functionCommands(program: Command, ctx: () => Context): void {
  program
    .command('deploy')
    .description('zip a folder (honouring .gantryignore) and create or update the function from it')
    .argument('[dir]', 'the folder holding the code', '.')
    .requiredOption('--name <name>', 'function name')
    .option('--runtime <id>', 'runtime id, e.g. nodejs20 (needed to create)')
    .option('--handler <handler>', 'e.g. index.handler (needed to create)')
    .option('--memory <mb>', 'memory in MB', intOption('--memory'))
    .option('--timeout <ms>', 'timeout in milliseconds', intOption('--timeout'))
    .option('--env <K=V>', 'an environment variable (repeat; replaces the whole environment)', collectEnv, undefined)
    .action(async (dir: string, o: { name: string; runtime?: string; handler?: string; memory?: number; timeout?: number; env?: Record<string, string> }) => {
      const { out, signal } = ctx();
      const code = await zipFolder(dir);
      const client = await ctx().client();
      const want: Partial<FunctionSettings> = {
        ...(o.runtime !== undefined ? { runtime: o.runtime } : {}),
        ...(o.handler !== undefined ? { handler: o.handler } : {}),
        ...(o.memory !== undefined ? { memoryMb: o.memory } : {}),
        ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
        ...(o.env !== undefined ? { environment: o.env } : {}),
      };
      out.note(`packaged ${code.files} file(s), ${(code.zip.length / 1024).toFixed(1)} KiB, sha256 ${code.sha256.slice(0, 12)}`);
      const { outcome, config } = await deployFunction(client, o.name, want, code, signal);
      out.result({ outcome, function: config }, () => `${outcome} ${config.name}\n${functionRecord(config)}`);
    });

  program
    .command('invoke')
    .description('invoke a function synchronously and print its result')
    .argument('<name>', 'function name')
    .option('--data <json>', 'the event, as JSON')
    .option('--file <file>', 'read the event from a file (- for stdin)')
    .option('--tail', 'print the invocation\'s log (its last 4 KB) on stderr')
    .action(async (name: string, o: { data?: string; file?: string; tail?: boolean }) => {
      const { out } = ctx();
      if (o.data !== undefined && o.file !== undefined) throw usageError('give --data or --file, not both');
      const event = o.file !== undefined ? await readEvent(o.file) : (o.data ?? '{}');
      try {
        JSON.parse(event);
      } catch (e) {
        throw usageError(`the event is not valid JSON: ${(e as Error).message}`);
      }
      const client = await ctx().client();
      const res = await client.send('POST', `${functionPath(name)}/invoke`, {
        body: event,
        headers: { 'content-type': 'application/json', ...(o.tail === true ? { 'x-gantry-log-type': 'Tail' } : {}) },
      });
      if (!res.ok) throw await errorOf(res);
      const body = await res.text();
      const functionError = res.headers.get('x-gantry-function-error');
      const logResult = res.headers.get('x-gantry-log-result');
      const log = logResult === null ? undefined : Buffer.from(logResult, 'base64').toString('utf8');
      const meta = {
        invocationId: res.headers.get('x-gantry-invocation-id'),
        billedDurationMs: Number(res.headers.get('x-gantry-billed-duration-ms') ?? 0),
        coldStart: res.headers.get('x-gantry-cold-start') === 'true',
        functionError,
      };
      if (out.json) {
        out.result({ ...meta, result: parseOr(body), ...(log !== undefined ? { log } : {}) }, () => '');
      } else {
        if (log !== undefined) process.stderr.write(log.endsWith('\n') ? log : `${log}\n`);
        process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
      }
      if (functionError !== null) throw new CliError(EXIT.functionError, `the function failed (${functionError}), invocation ${meta.invocationId ?? '?'}`, 'FunctionError');
    });

  program
    .command('ls')
    .description('list functions')
    .action(async () => {
      const { out } = ctx();
      const client = await ctx().client();
      const list = await client.call<{ functions: FunctionConfig[] }>('GET', '/v1/functions');
      out.result(list, () =>
        table(
          ['NAME', 'RUNTIME', 'HANDLER', 'MEMORY', 'TIMEOUT', 'CODE', 'UPDATED'],
          list.functions.map((f) => [f.name, f.runtime, f.handler, `${f.memoryMb} MB`, `${f.timeoutMs} ms`, f.codeSha256.slice(0, 12), f.updatedAt]),
        ),
      );
    });

  program
    .command('rm')
    .description('delete a function (its warm containers are removed)')
    .argument('<name>', 'function name')
    .action(async (name: string) => {
      const { out } = ctx();
      const client = await ctx().client();
      await client.call('DELETE', functionPath(name));
      out.result({ deleted: name }, () => `deleted ${name}`);
    });
}

export function functionRecord(f: FunctionConfig): string {
  return record([
    ['name', f.name],
    ['runtime', f.runtime],
    ['handler', f.handler],
    ['memory', `${f.memoryMb} MB`],
    ['timeout', `${f.timeoutMs} ms`],
    ['environment', Object.keys(f.environment).join(', ') || '-'],
    ['code', `${f.codeSha256} (${f.codeSize} bytes)`],
    ['updated', f.updatedAt],
  ]);
}

export function intOption(flag: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw usageError(`${flag} ${v}: give a whole number`);
    return Number(v);
  };
}

function collectEnv(v: string, acc: Record<string, string> | undefined): Record<string, string> {
  const eq = v.indexOf('=');
  if (eq <= 0) throw usageError(`--env ${v}: give NAME=VALUE`);
  return { ...acc, [v.slice(0, eq)]: v.slice(eq + 1) };
}

async function readEvent(file: string): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
