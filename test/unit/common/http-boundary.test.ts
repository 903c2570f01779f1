// The per-request error boundary: a throw in a listener ends that request alone with a 500 in
// the server's family, logged once with its cause; Node's parser errors get the family's body.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { answerClientErrors, guarded, type ErrorBody } from '../../../common/http-boundary.js';
import { createLogger } from '../../../common/logger.js';
import { sendRaw } from '../../support/hostile-input.js';

const family: ErrorBody = (status) => ({ contentType: 'application/json', text: JSON.stringify({ family: status }) });

t.test('a throwing listener answers 500 for that request, logs it once, and the server goes on', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', name: 'b', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  const srv = http.createServer(
    guarded(
      (req, res) => {
        if (req.url === '/boom') throw new Error('boom');
        res.end('fine');
      },
      logger,
      family,
    ),
  );
  answerClientErrors(srv, family);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const boom = await fetch(`${base}/boom`);
  t.equal(boom.status, 500);
  t.same(await boom.json(), { family: 500 });
  t.equal(lines.length, 1, 'logged once');
  t.match(lines[0], { msg: 'request failed', path: '/boom', err: { message: 'boom' } });
  t.equal(await (await fetch(`${base}/ok`)).text(), 'fine', 'the next request is served');
  const broken = await sendRaw({ port: (srv.address() as AddressInfo).port }, Buffer.from('GET / HTTP/1.1\r\ncontent-length: x\r\n\r\n'));
  t.equal(broken.status, 400);
  t.match(broken.text, /\{"family":400\}$/);
  t.equal(await (await fetch(`${base}/ok`)).text(), 'fine');
});
