/**
 * Following a function's log: `GET …/logs?follow=true` answers `text/event-stream` where the
 * control plane streams (one `event: line` per stored line); EventSource cannot send the token,
 * so the stream is read from fetch's body. A control plane without the stream answers the stored
 * lines as JSON instead, and the caller polls.
 */
import { call, enc, errorOf, type LogLine } from './api';

export type FollowOutcome = { kind: 'ended' } | { kind: 'not-streaming'; lines: LogLine[] };

export async function followLogs(name: string, signal: AbortSignal, onLine: (line: LogLine) => void, onOpen: () => void): Promise<FollowOutcome> {
  const res = await call('GET', `/v1/functions/${enc(name)}/logs?follow=true&limit=200`, undefined, { accept: 'text/event-stream' }, signal);
  if (!res.ok) throw await errorOf(res);
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || res.body === null) {
    return { kind: 'not-streaming', lines: ((await res.json()) as { lines: LogLine[] }).lines };
  }
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { kind: 'ended' };
    buffer += value;
    // Events end with a blank line; a CR LF may be split across chunks, so only complete ones are cut.
    for (let end = blankLine(buffer); end !== undefined; end = blankLine(buffer)) {
      const event = parseEvent(buffer.slice(0, end.at));
      buffer = buffer.slice(end.at + end.length);
      if (event.type === 'end') return { kind: 'ended' };
      if (event.type === 'line' && event.data !== '') onLine(JSON.parse(event.data) as LogLine);
    }
    if (buffer.length > 1024 * 1024) throw new Error('The log stream sent an event over 1 MiB.');
  }
}

function blankLine(text: string): { at: number; length: number } | undefined {
  const m = /\r?\n\r?\n/.exec(text);
  return m === null ? undefined : { at: m.index, length: m[0].length };
}

function parseEvent(block: string): { type: string; data: string } {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  return { type, data: data.join('\n') };
}
