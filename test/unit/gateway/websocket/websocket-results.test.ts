import t from 'tap';
import { connectOutcome, routeResponseOf } from '../../../../gateway/websocket/websocket-results.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

t.test('$connect: 2xx or no status accepts, with the chosen subprotocol', async (t) => {
  t.same(connectOutcome(json({ statusCode: 200 }), false), { accept: true, protocol: undefined });
  t.same(connectOutcome(json({ statusCode: 204, headers: { 'sec-websocket-protocol': 'v2' } }), false), { accept: true, protocol: 'v2' });
  t.same(connectOutcome(json(null), false), { accept: true, protocol: undefined });
  t.same(connectOutcome(Buffer.alloc(0), false), { accept: true, protocol: undefined });
  t.same(connectOutcome(json({ hello: 1 }), false), { accept: true, protocol: undefined });
});

t.test('$connect: non-2xx rejects with that status and body; errors are 502', async (t) => {
  const r = connectOutcome(json({ statusCode: 401, headers: { 'Content-Type': 'text/plain' }, body: 'who are you' }), false);
  t.match(r, { accept: false, status: 401, contentType: 'text/plain' });
  t.equal(!r.accept && r.body.toString(), 'who are you');
  const b64 = connectOutcome(json({ statusCode: 400, body: Buffer.from('bin').toString('base64'), isBase64Encoded: true }), false);
  t.equal(!b64.accept && b64.body.toString(), 'bin');
  const obj = connectOutcome(json({ statusCode: 403, body: { why: 'x' } }), false);
  t.equal(!obj.accept && obj.body.toString(), '{"why":"x"}');
  t.match(connectOutcome(json({ errorType: 'Error' }), true), { accept: false, status: 502 });
  t.match(connectOutcome(Buffer.from('not json'), false), { accept: false, status: 502 });
  t.match(connectOutcome(json({ statusCode: 99 }), false), { accept: false, status: 502 }, 'an impossible status');
});

t.test('two-way routes send back the result body only', async (t) => {
  t.equal(routeResponseOf(json({ statusCode: 200, body: 'hi' })), 'hi');
  t.equal(routeResponseOf(json({ body: { a: 1 } })), '{"a":1}');
  t.same(routeResponseOf(json({ body: 'AAE=', isBase64Encoded: true })), Buffer.from([0, 1]));
  t.equal(routeResponseOf(json({ statusCode: 200 })), undefined);
  t.equal(routeResponseOf(json('just a string')), undefined);
  t.equal(routeResponseOf(Buffer.from('nope')), undefined);
});
