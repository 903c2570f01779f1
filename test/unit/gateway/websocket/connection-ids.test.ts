import t from 'tap';
import { mayBeConnectionsPath, newConnectionId, parseConnectionsPath } from '../../../../gateway/websocket/connection-ids.js';

t.test('connection ids look like API Gateway ids', async (t) => {
  const id = newConnectionId();
  t.match(id, /^[A-Za-z0-9+/]{15}=$/);
  t.not(newConnectionId(), id);
});

t.test('@connections paths: literal or encoded @, percent-decoded ids', async (t) => {
  t.same(parseConnectionsPath('/chat/@connections/R0oXAdfD0kwCH6w%3D'), { prefix: '/chat', connectionId: 'R0oXAdfD0kwCH6w=' });
  t.same(parseConnectionsPath('/chat/%40connections/a%2Fb%2Bc%3D'), { prefix: '/chat', connectionId: 'a/b+c=' });
  t.same(parseConnectionsPath('/@connections/abc='), { prefix: '', connectionId: 'abc=' }, 'on an API host');
  t.equal(parseConnectionsPath('/chat/@connections/'), undefined);
  t.equal(parseConnectionsPath('/chat/@connections/a/b'), undefined);
  t.equal(parseConnectionsPath('/chat/@connections/%E0%A4%A'), undefined, 'malformed escape');
  t.equal(parseConnectionsPath('/chat/items/1'), undefined);
  t.equal(mayBeConnectionsPath('/chat/items'), false);
  t.equal(mayBeConnectionsPath('/chat/@connections/x'), true);
});
