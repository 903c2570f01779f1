import t from 'tap';
import { buildConnectEvent, buildDisconnectEvent, buildMessageEvent, disconnectReasonFor, type ConnectionContext } from '../../../../gateway/websocket/websocket-events.js';

const CONN: ConnectionContext = {
  connectionId: 'Zk3pLq8vIAMCKlQ=',
  connectedAt: 1736072100000,
  apiId: 'w1x2y3',
  domainName: 'ws.example.test',
  sourceIp: '10.0.0.7',
  userAgent: 'wscat/5',
};
const TIMING = { requestId: 'Qm9vbR=', requestTimeEpoch: 1736072130000 };

t.test('a message event has the shape of compat.md §6.2', async (t) => {
  const e = buildMessageEvent(CONN, TIMING, 'chat', 'Qm9vbQ=', Buffer.from('{"action":"chat","text":"hi"}'), false);
  t.same(e, {
    requestContext: {
      routeKey: 'chat',
      messageId: 'Qm9vbQ=',
      eventType: 'MESSAGE',
      extendedRequestId: 'Qm9vbR=',
      requestTime: '05/Jan/2025:10:15:30 +0000',
      messageDirection: 'IN',
      stage: '$default',
      connectedAt: 1736072100000,
      requestTimeEpoch: 1736072130000,
      identity: { sourceIp: '10.0.0.7', userAgent: 'wscat/5' },
      requestId: 'Qm9vbR=',
      domainName: 'ws.example.test',
      connectionId: 'Zk3pLq8vIAMCKlQ=',
      apiId: 'w1x2y3',
    },
    body: '{"action":"chat","text":"hi"}',
    isBase64Encoded: false,
  });
});

t.test('binary frames travel base64-encoded', async (t) => {
  const e = buildMessageEvent(CONN, TIMING, '$default', 'm', Buffer.from([0, 255, 10]), true);
  t.equal(e.body, 'AP8K');
  t.equal(e.isBase64Encoded, true);
});

t.test('a connect event carries headers and the query string, without messageId', async (t) => {
  const e = buildConnectEvent(CONN, TIMING, ['Host', 'ws.example.test', 'X-Multi', 'a', 'X-Multi', 'b'], 'room=1&room=2&x=');
  t.same(e.headers, { Host: 'ws.example.test', 'X-Multi': 'b' });
  t.same(e.multiValueHeaders, { Host: ['ws.example.test'], 'X-Multi': ['a', 'b'] });
  t.same(e.queryStringParameters, { room: '2', x: '' });
  t.same(e.multiValueQueryStringParameters, { room: ['1', '2'], x: [''] });
  t.equal(e.isBase64Encoded, false);
  t.match(e.requestContext, { routeKey: '$connect', eventType: 'CONNECT' });
  t.notOk('messageId' in e.requestContext);
  const bare = buildConnectEvent({ ...CONN, userAgent: undefined }, TIMING, [], '');
  t.notOk('queryStringParameters' in bare, 'no query string: no query fields');
  t.same(bare.requestContext.identity, { sourceIp: '10.0.0.7' });
});

t.test('a disconnect event carries the close status and API Gateway placeholder headers', async (t) => {
  const e = buildDisconnectEvent(CONN, TIMING, 1005, disconnectReasonFor(1005, ''));
  t.match(e.requestContext, { routeKey: '$disconnect', eventType: 'DISCONNECT', disconnectStatusCode: 1005, disconnectReason: 'Client-side close frame status not set', connectedAt: CONN.connectedAt });
  t.same(e.headers, { Host: 'ws.example.test', 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' });
  t.same(e.multiValueHeaders.Host, ['ws.example.test']);
  t.equal(disconnectReasonFor(4000, 'bye'), 'bye');
  t.equal(disconnectReasonFor(1006, ''), 'Connection closed abnormally');
});

t.test('the $connect authorizer context is repeated on every event', async (t) => {
  const withAuth = { ...CONN, authorizer: { principalId: 'u1', tier: 'gold' } };
  t.same(buildMessageEvent(withAuth, TIMING, 'x', 'm', Buffer.from('x'), false).requestContext.authorizer, { principalId: 'u1', tier: 'gold' });
  t.notOk('authorizer' in buildMessageEvent(CONN, TIMING, 'x', 'm', Buffer.from('x'), false).requestContext);
});
