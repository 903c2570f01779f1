// The CLI's small parts: --since spans, the event-stream reader, the upload body, the exit codes.
import t from 'tap';
import { sinceTime } from '../../../cli/durations.js';
import { EXIT } from '../../../cli/exit-codes.js';
import { readSse } from '../../../cli/sse-reader.js';
import { uploadBody } from '../../../cli/upload-progress.js';

t.test('--since takes a span back from now or an RFC 3339 time', async (t) => {
  const now = Date.parse('2026-12-08T12:00:00Z');
  t.equal(sinceTime('10m', now).toISOString(), '2026-12-08T11:50:00.000Z');
  t.equal(sinceTime('30s', now).toISOString(), '2026-12-08T11:59:30.000Z');
  t.equal(sinceTime('2h', now).toISOString(), '2026-12-08T10:00:00.000Z');
  t.equal(sinceTime('1d', now).toISOString(), '2026-12-07T12:00:00.000Z');
  t.equal(sinceTime('2026-01-01T00:00:00Z', now).toISOString(), '2026-01-01T00:00:00.000Z');
  for (const bad of ['10', '10y', 'm', '-5m', 'yesterday', '2026-13-45T00:00:00Z']) t.throws(() => sinceTime(bad, now), { exitCode: EXIT.usage, message: /--since/ }, bad);
});

t.test('the event-stream reader: events split anywhere, comments skipped, multi-line data joined', async (t) => {
  const wire = ': following\n\nevent: line\ndata: {"a":1}\n\n: keepalive\r\n\r\nevent: line\r\ndata: x\r\ndata: y\r\n\r\ndata: plain\n\nevent: end\ndata: {}\n\n';
  const bytes = new TextEncoder().encode(wire);
  // One byte per chunk: every boundary falls inside a line somewhere.
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const b of bytes) c.enqueue(Uint8Array.of(b));
      c.close();
    },
  });
  const events = [];
  for await (const e of readSse(body)) events.push(e);
  t.same(events, [
    { event: 'line', data: '{"a":1}' },
    { event: 'line', data: 'x\ny' },
    { event: 'message', data: 'plain' },
    { event: 'end', data: '{}' },
  ]);
});

t.test('an upload is streamed (for its progress bar) only on a terminal and above 1 MiB', async (t) => {
  const small = Buffer.alloc(1000, 1);
  t.equal(uploadBody(small, 'up', true), small);
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 2);
  t.equal(uploadBody(big, 'up', false), big, 'not on a terminal: the bytes as they are');
  const streamed = uploadBody(big, 'up', true);
  t.ok(streamed instanceof ReadableStream);
  const chunks: Buffer[] = [];
  for await (const c of streamed as ReadableStream<Uint8Array>) chunks.push(Buffer.from(c));
  t.ok(Buffer.concat(chunks).equals(big), 'the stream carries exactly the bytes');
});
