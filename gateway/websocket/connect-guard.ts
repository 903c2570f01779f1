/**
 * The `$connect` route's guard (compat.md §6.3, §8): a Lambda REQUEST authorizer (the only kind
 * WebSocket APIs have), `apiKeyRequired` and throttles, run by the HTTP routes' RouteGuard with
 * the WebSocket event as the authorizer's request. The authorizer sees
 * `methodArn: arn:aws:execute-api:{region}:000000000000:{apiId}/$default/$connect`; its
 * `principalId` and context become `requestContext.authorizer` on every event of the connection.
 */
import type { HttpV1Event } from '../events/http-v1-event.js';
import { GATEWAY_MESSAGES } from '../http/gateway-responses.js';
import type { RouteGuard } from '../http/route-guard.js';
import type { ApiDefinition, RouteDefinition } from '../routing/route-snapshot.js';
import type { LiveRoutes } from '../routing/route-sync.js';
import type { ConnectEvent } from './websocket-events.js';

export type ConnectAdmission =
  | { readonly kind: 'pass'; readonly authorizer: Record<string, unknown> | undefined }
  | { readonly kind: 'reject'; readonly status: number; readonly body: Buffer };

export async function admitConnect(guard: Pick<RouteGuard, 'check'>, live: LiveRoutes, api: ApiDefinition, route: RouteDefinition, event: ConnectEvent): Promise<ConnectAdmission> {
  const lower = Object.fromEntries(Object.entries(event.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const rc = event.requestContext;
  // What a REST REQUEST authorizer reads, over the WebSocket event's own fields.
  const asRequest = () => ({ ...event, resource: '$connect', path: '/', httpMethod: 'GET', pathParameters: null, stageVariables: null }) as unknown as HttpV1Event;
  const outcome = await guard.check({
    api,
    // The REST form of the authorizer context (principalId plus the context keys), as WebSocket APIs give it.
    route: { ...route, payloadFormatVersion: '1.0' },
    method: '$connect',
    path: '',
    apiKeyValue: lower['x-api-key'],
    apiKeys: live.apiKeys,
    identity: () => ({
      headers: lower,
      query: event.queryStringParameters ?? {},
      context: { routeKey: rc.routeKey, eventType: rc.eventType, connectionId: rc.connectionId, requestId: rc.requestId, apiId: rc.apiId, domainName: rc.domainName, stage: rc.stage, 'identity.sourceIp': rc.identity.sourceIp },
    }),
    v1Event: asRequest,
    v2Event: asRequest as never,
  });
  if (outcome.kind === 'pass') return { kind: 'pass', authorizer: outcome.authorizer };
  const [status, message] = GATEWAY_MESSAGES[outcome.message];
  return { kind: 'reject', status, body: Buffer.from(JSON.stringify({ message })) };
}
