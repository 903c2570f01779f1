/**
 * `gantry logs NAME [--follow] [--since 10m]`: stored lines, then with --follow the server's event
 * stream of new ones (pushed as they are stored, never polled). The stream is opened before the
 * stored lines are read, so no line falls between the two; lines seen in both are printed once.
 */
import type { Command } from 'commander';
import { errorOf } from '../api-client.js';
import type { Context } from '../context.js';
import { sinceTime } from '../durations.js';
import { CliError, EXIT } from '../exit-codes.js';
import { functionPath } from '../function-types.js';
import type { Output } from '../output.js';
import { readSse } from '../sse-reader.js';
import { intOption } from './functions.js';

interface Line {
  readonly invocationId: string | null;
  readonly time: string;
  readonly stream: string;
  readonly message: string;
}

export function logsCommand(program: Command, ctx: () => Context): void {
  program
    .command('logs')
    .description('print a function\'s log lines; --follow streams new ones as they arrive')
    .argument('<name>', 'function name')
    .option('-f, --follow', 'keep streaming new lines until interrupted')
    .option('--since <span>', 'only lines from this long ago (30s, 10m, 2h, 1d) or from an RFC 3339 time')
    .option('--limit <n>', 'at most this many stored lines (newest)', intOption('--limit'), 100)
    .option('--invocation <id>', 'only the lines of this invocation')
    .action(async (name: string, o: { follow?: boolean; since?: string; limit: number; invocation?: string }) => {
      const { out, signal } = ctx();
      const since = o.since === undefined ? undefined : sinceTime(o.since).toISOString();
      const client = await ctx().client();
      const path = `${functionPath(name)}/logs`;
      let stream: Response | undefined;
      if (o.follow === true) {
        stream = await client.send('GET', path, { query: { follow: 'true' }, headers: { accept: 'text/event-stream' }, signal }).catch((e: unknown) => {
          if ((e as Error).name === 'AbortError') return undefined;
          throw e;
        });
        if (stream === undefined) return;
        if (!stream.ok) throw await errorOf(stream);
      }
      let stored: { lines: Line[] };
      try {
        stored = await client.call<{ lines: Line[] }>('GET', path, { query: { limit: o.limit, since, invocationId: o.invocation } });
      } catch (e) {
        // An open stream would keep the process alive after the error.
        await stream?.body?.cancel().catch(() => undefined);
        throw e;
      }
      const seen = new Set<string>();
      for (const l of stored.lines) {
        seen.add(key(l));
        printLine(out, l);
      }
      if (stream?.body == null) return;
      const newest = stored.lines.at(-1)?.time ?? '';
      try {
        for await (const ev of readSse(stream.body)) {
          if (ev.event === 'end') throw new CliError(EXIT.server, `the server ended the log stream: ${endReason(ev.data)}`, 'StreamEnded');
          if (ev.event !== 'line') continue;
          const l = JSON.parse(ev.data) as Line;
          if (o.invocation !== undefined && l.invocationId !== o.invocation) continue;
          // Only lines from before the newest stored one can have been printed already.
          if (l.time <= newest && seen.has(key(l))) continue;
          printLine(out, l);
        }
      } catch (e) {
        if ((e as Error).name === 'AbortError' || signal.aborted) return;
        throw e;
      }
      if (!signal.aborted) throw new CliError(EXIT.server, 'the log stream was closed by the server', 'StreamEnded');
    });
}

function key(l: Line): string {
  return `${l.time}\n${l.invocationId ?? ''}\n${l.message}`;
}

function printLine(out: Output, l: Line): void {
  if (out.json) process.stdout.write(`${JSON.stringify(l)}\n`);
  else process.stdout.write(`${l.time}  ${l.stream === 'stderr' ? 'ERR' : 'OUT'}  ${l.message}\n`);
}

function endReason(data: string): string {
  try {
    return String((JSON.parse(data) as { reason?: unknown }).reason ?? data);
  } catch {
    return data;
  }
}
