/**
 * What API Gateway allows on WebSocket routes beyond the key (compat.md §6.3): authorization (a
 * Lambda REQUEST authorizer, answering with an IAM policy) and API keys only on `$connect`.
 * Gantry also keeps route throttles to `$connect`, the only route its guard runs on. Pure.
 */
import type { z } from 'zod';
import type { createRouteSchema } from './gateway-options-schemas.js';

type RouteBody = z.output<typeof createRouteSchema>;

/** A reason the route cannot be created on a websocket API, or undefined. */
export function websocketRouteProblem(route: RouteBody): string | undefined {
  const guarded = route.authorizer !== undefined || route.apiKeyRequired === true || route.throttle !== undefined;
  if (guarded && route.routeKey !== '$connect') return 'authorizer, apiKeyRequired and throttle are only possible on the $connect route of a websocket API';
  if (route.authorizer?.type === 'jwt') return 'websocket APIs have no JWT authorizers: use a function authorizer on $connect';
  if (route.authorizer?.type === 'function' && route.authorizer.enableSimpleResponses) return 'a websocket authorizer answers with an IAM policy (enableSimpleResponses is for HTTP APIs)';
  return undefined;
}

/** HTTP APIs have no route responses: the option would be silently meaningless there. */
export function httpRouteProblem(route: RouteBody): string | undefined {
  return route.routeResponseSelectionExpression === undefined ? undefined : 'routeResponseSelectionExpression is for routes of websocket APIs';
}

/** The stored form: a websocket authorizer always gets the REQUEST (1.0) event. */
export function websocketRoute(route: RouteBody): RouteBody {
  return route.authorizer?.type === 'function' ? { ...route, authorizer: { ...route.authorizer, payloadFormatVersion: '1.0' } } : route;
}
