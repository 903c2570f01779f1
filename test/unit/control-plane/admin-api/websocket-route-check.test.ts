import t from 'tap';
import { createRouteSchema } from '../../../../control-plane/admin-api/gateway-options-schemas.js';
import { httpRouteProblem, websocketRoute, websocketRouteProblem } from '../../../../control-plane/admin-api/websocket-route-check.js';

const route = (body: Record<string, unknown>) => createRouteSchema.parse({ function: 'fn', ...body });
const authorizer = { type: 'function', function: 'auth' };

t.test('guards only on $connect, function authorizers only, IAM-policy answers', async (t) => {
  t.equal(websocketRouteProblem(route({ routeKey: '$connect', authorizer, apiKeyRequired: true })), undefined);
  t.equal(websocketRouteProblem(route({ routeKey: 'chat', routeResponseSelectionExpression: '$default' })), undefined);
  for (const body of [{ routeKey: 'chat', authorizer }, { routeKey: '$default', apiKeyRequired: true }, { routeKey: '$disconnect', throttle: { rateLimit: 1, burstLimit: 1 } }]) {
    t.match(websocketRouteProblem(route(body)), /only possible on the \$connect route/, body.routeKey);
  }
  t.match(websocketRouteProblem(route({ routeKey: '$connect', authorizer: { type: 'jwt', issuer: 'https://idp.test', audience: ['a'] } })), /no JWT authorizers/);
  t.match(websocketRouteProblem(route({ routeKey: '$connect', authorizer: { ...authorizer, enableSimpleResponses: true } })), /IAM policy/);
});

t.test('a websocket authorizer always gets the REQUEST (1.0) event', async (t) => {
  t.match(websocketRoute(route({ routeKey: '$connect', authorizer })).authorizer, { type: 'function', payloadFormatVersion: '1.0' });
  t.same(websocketRoute(route({ routeKey: 'chat' })), route({ routeKey: 'chat' }));
});

t.test('route responses exist only on websocket APIs', async (t) => {
  t.match(httpRouteProblem(route({ routeKey: 'GET /x', routeResponseSelectionExpression: '$default' })), /websocket/);
  t.equal(httpRouteProblem(route({ routeKey: 'GET /x' })), undefined);
});
