import t from 'tap';
import { connectionsToken, isConnectionsToken } from '../../../../common/connections-token.js';
import { functionGatewayUrl } from '../../../../control-plane/websocket/connections-environment.js';

t.test('the gateway URL functions use: configured, else the bridge address with the public port', async (t) => {
  t.equal(functionGatewayUrl('http://gw.internal:8080', 'http://127.0.0.1:8080', '172.18.0.1'), 'http://gw.internal:8080');
  t.equal(functionGatewayUrl(undefined, 'http://127.0.0.1:8081', '172.18.0.1'), 'http://172.18.0.1:8081');
  t.equal(functionGatewayUrl(undefined, 'https://api.example.com', '172.18.0.1'), 'http://172.18.0.1:443');
  t.equal(functionGatewayUrl(undefined, 'http://127.0.0.1:8080', 'fd00::1'), 'http://[fd00::1]:8080');
  t.equal(functionGatewayUrl(undefined, 'http://127.0.0.1:8080', undefined), undefined);
});

t.test('connections tokens are per API and checked exactly', async (t) => {
  const a = connectionsToken('internal-secret-internal-secret-00', 'api1');
  t.match(a, /^gct_[A-Za-z0-9_-]{43}$/);
  t.not(connectionsToken('internal-secret-internal-secret-00', 'api2'), a);
  t.not(connectionsToken('internal-secret-internal-secret-01', 'api1'), a, 'a new internal token rotates it');
  t.equal(isConnectionsToken(a, 'internal-secret-internal-secret-00', 'api1'), true);
  t.equal(isConnectionsToken(a, 'internal-secret-internal-secret-00', 'api2'), false);
  t.equal(isConnectionsToken(`${a}x`, 'internal-secret-internal-secret-00', 'api1'), false);
});
