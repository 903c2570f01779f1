// SIGTERM with log followers connected: each gets the stream's `end` event and a closed stream,
// and the control plane still exits cleanly and promptly (a follower never holds it up).
import t from 'tap';
import { processStack } from '../support/control-plane-process.js';
import { requireServices } from '../support/services.js';
import { eventually } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

await requireServices(t);
// No stem cells: this test starts no container.
const stack = await processStack(t, { GANTRY_STEM_CELL_RUNTIMES: '' });

await t.test('followers get event: end on shutdown, and the process exits 0', async (t) => {
  const cp = await stack.start();
  const created = await stack.admin('POST', '/v1/functions', { name: 'quiet', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: nodeZip('exports.handler = async () => 1;').toString('base64') } });
  t.equal(created.status, 201);
  const readers = await Promise.all(
    [1, 2].map(async () => {
      const res = await stack.admin('GET', '/v1/functions/quiet/logs?follow=true');
      t.equal(res.status, 200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const closed = (async () => {
        for (let i = 0; i < 10_000; i++) {
          const { value, done } = await reader.read();
          if (done) return text;
          text += Buffer.from(value).toString();
        }
        return text;
      })();
      return { closed, seen: () => text };
    }),
  );
  // The streams are live once their first comment arrived.
  t.ok(await eventually(async () => readers.every((r) => r.seen().includes(': following')), 5_000, 20), 'both streams open');
  const sent = Date.now();
  cp.child.kill('SIGTERM');
  const bounded = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);
  for (const r of readers) {
    const text = await bounded(r.closed, 10_000);
    t.match(text, /event: end\ndata: \{"reason":"shutting down"\}\n\n$/, 'the stream ends with its end event');
  }
  t.equal(await bounded(cp.exited, 20_000), 0, 'exit code 0');
  t.ok(Date.now() - sent < 20_000, `stopped in ${Date.now() - sent} ms`);
});
