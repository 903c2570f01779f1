/**
 * Every endpoint the admin app answers, as data: method, path, the zod schema that validates its
 * body (the same object the router hands to `parseBody`), its query and its answers. The OpenAPI
 * document (`openapi-document.ts`) is generated from this list, and a test walks the Express stack
 * of the admin app so that a mounted route missing here fails it.
 */
import { z } from 'zod';
import { asyncConfigSchema } from '../async/async-config.js';
import { createAccessKeySchema } from './access-keys-router.js';
import { createApiKeySchema, createRouteSchema, createUsagePlanSchema } from './gateway-options-schemas.js';
import { createScheduleSchema } from './schedules-router.js';
import { putPricesSchema } from './usage-router.js';
import { createAliasSchema, createApiSchema, createFunctionSchema, patchAliasSchema, patchApiSchema, patchFunctionSchema, publishVersionSchema } from './validation.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface AdminRoute {
  readonly method: HttpMethod;
  /** OpenAPI form: `/v1/functions/{name}`. */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  /** A JSON body validated by this schema, or a raw zip. */
  readonly body?: z.ZodTypeAny | 'zip' | 'any-json';
  readonly query?: z.AnyZodObject;
  /** Status → description; errors other than the listed ones follow api.md's error shape too. */
  readonly responses: Readonly<Record<number, string>>;
  /** Answered without the bearer token. */
  readonly public?: boolean;
  /** Answered by the control plane before Express (the invoke hot path), so not in the admin app's stack. */
  readonly outsideExpress?: boolean;
}

const q = (shape: Record<string, string>) =>
  z.object(Object.fromEntries(Object.entries(shape).map(([k, d]) => [k, z.string().optional().describe(d)])));

const limit = (max: number, dflt: number) => `1-${max} (default ${dflt})`;

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  // Ops (common/ops-router.ts)
  { method: 'get', path: '/healthz', tag: 'ops', summary: 'Liveness', responses: { 200: 'The process is up' }, public: true },
  { method: 'get', path: '/readyz', tag: 'ops', summary: 'Readiness of Postgres, Redis and the Docker engine', responses: { 200: 'Ready', 503: 'Not ready (the failing checks named)' }, public: true },
  { method: 'get', path: '/metrics', tag: 'ops', summary: 'Prometheus metrics', responses: { 200: 'Prometheus text format' }, public: true },
  { method: 'get', path: '/console', tag: 'ops', summary: 'The web console (redirects to /console/, whose static files need no token)', responses: { 301: 'To /console/' }, public: true },
  { method: 'get', path: '/v1/openapi.json', tag: 'ops', summary: 'This document', responses: { 200: 'OpenAPI 3.1 description of the admin API' }, public: true },

  // Functions
  { method: 'get', path: '/v1/runtimes', tag: 'functions', summary: 'Runtimes whose image is present, with their real version', responses: { 200: '{runtimes: [...]}' } },
  { method: 'post', path: '/v1/functions', tag: 'functions', summary: 'Create a function from a base64 zip', body: createFunctionSchema, responses: { 201: 'The function configuration', 409: 'A function of that name exists' } },
  { method: 'get', path: '/v1/functions', tag: 'functions', summary: 'List functions', responses: { 200: '{functions: [...]}' } },
  { method: 'get', path: '/v1/functions/{name}', tag: 'functions', summary: 'A function configuration', responses: { 200: 'The function configuration', 404: 'No such function' } },
  { method: 'put', path: '/v1/functions/{name}/code', tag: 'functions', summary: 'Replace the code with a raw zip', body: 'zip', responses: { 200: 'The function configuration', 404: 'No such function' } },
  { method: 'patch', path: '/v1/functions/{name}', tag: 'functions', summary: 'Change the configuration', body: patchFunctionSchema, responses: { 200: 'The function configuration', 404: 'No such function' } },
  { method: 'delete', path: '/v1/functions/{name}', tag: 'functions', summary: 'Delete a function', responses: { 204: 'Deleted', 404: 'No such function' } },
  {
    method: 'post',
    path: '/v1/functions/{name}/invoke',
    tag: 'functions',
    summary: 'Invoke (synchronously, or asynchronously with ?async=true or X-Gantry-Invocation-Type: Event)',
    body: 'any-json',
    query: q({ async: '"true" for an asynchronous invoke', qualifier: 'a version or alias (or name:qualifier in the path; both must agree)' }),
    responses: { 200: "The function's result (X-Gantry-Function-Error: Unhandled when it failed)", 202: '{invocationId} of a queued asynchronous invoke', 413: 'Payload too large', 429: 'Throttled (Retry-After, X-Gantry-Throttle-Reason)' },
    outsideExpress: true,
  },

  // Versions and aliases
  { method: 'post', path: '/v1/functions/{name}/versions', tag: 'versions', summary: "Publish $LATEST as a new immutable version (an unchanged $LATEST returns the newest)", body: publishVersionSchema, responses: { 201: 'The version', 412: 'PreconditionFailed: codeSha256 or revisionId does not match' } },
  { method: 'get', path: '/v1/functions/{name}/versions', tag: 'versions', summary: '$LATEST and the published versions', responses: { 200: '{versions: [...]}' } },
  { method: 'get', path: '/v1/functions/{name}/versions/{version}', tag: 'versions', summary: 'One version ($LATEST or a number)', responses: { 200: 'The version', 404: 'No such version' } },
  { method: 'delete', path: '/v1/functions/{name}/versions/{version}', tag: 'versions', summary: 'Delete a published version', responses: { 204: 'Deleted', 409: 'An alias uses it' } },
  { method: 'post', path: '/v1/functions/{name}/aliases', tag: 'versions', summary: 'Create an alias, optionally weighted onto a second version', body: createAliasSchema, responses: { 201: 'The alias' } },
  { method: 'get', path: '/v1/functions/{name}/aliases', tag: 'versions', summary: "A function's aliases", responses: { 200: '{aliases: [...]}' } },
  { method: 'get', path: '/v1/functions/{name}/aliases/{alias}', tag: 'versions', summary: 'An alias', responses: { 200: 'The alias', 404: 'No such alias' } },
  { method: 'patch', path: '/v1/functions/{name}/aliases/{alias}', tag: 'versions', summary: "Change an alias's version, weights or description", body: patchAliasSchema, responses: { 200: 'The alias', 412: 'PreconditionFailed: revisionId does not match' } },
  { method: 'delete', path: '/v1/functions/{name}/aliases/{alias}', tag: 'versions', summary: 'Delete an alias', responses: { 204: 'Deleted' } },

  // Access keys (SigV4)
  { method: 'post', path: '/v1/access-keys', tag: 'access-keys', summary: 'Create an access key (the secret is shown only here)', body: createAccessKeySchema, responses: { 201: '{accessKeyId, secretAccessKey, tenant, createdAt}' } },
  { method: 'get', path: '/v1/access-keys', tag: 'access-keys', summary: 'List access keys, without their secrets', responses: { 200: '{accessKeys: [...]}' } },
  { method: 'delete', path: '/v1/access-keys/{accessKeyId}', tag: 'access-keys', summary: 'Revoke an access key (at once, on every node)', responses: { 204: 'Revoked' } },

  // Observing
  { method: 'get', path: '/v1/functions/{name}/logs', tag: 'observing', summary: "The function's stdout/stderr per invocation, or its newest lines", query: q({ invocationId: 'one invocation (a UUID)', limit: limit(10_000, 1000) }), responses: { 200: '{lines: [{invocationId, time, stream, message}]}' } },
  { method: 'get', path: '/v1/functions/{name}/invocations', tag: 'observing', summary: "The function's ledger entries, newest first", query: q({ limit: limit(1000, 50), cursor: 'nextCursor of the previous page' }), responses: { 200: '{invocations: [...], nextCursor}' } },
  { method: 'get', path: '/v1/usage', tag: 'observing', summary: 'Requests, billed time, GB-s and cost per function or per day', query: q({ from: 'inclusive ISO date or date-time (default: start of this UTC month)', to: 'exclusive (default: now)', groupBy: 'function | day' }), responses: { 200: '{rows: [{key, requests, billedMs, gbSeconds, cost, rejected}], currency, from, to, groupBy}' } },
  { method: 'get', path: '/v1/usage/invoice', tag: 'observing', summary: "A month's invoice", query: q({ month: 'YYYY-MM' }), responses: { 200: '{month, currency, lines, total}' } },
  { method: 'get', path: '/v1/prices', tag: 'observing', summary: "The tenant's prices", responses: { 200: '{pricePerGbSecond, pricePerMillionRequests, currency, source, updatedAt}' } },
  { method: 'put', path: '/v1/prices', tag: 'observing', summary: "Set the tenant's prices", body: putPricesSchema, responses: { 200: 'The prices' } },
  { method: 'delete', path: '/v1/prices', tag: 'observing', summary: 'Back to the configured default prices', responses: { 204: 'Reset' } },

  // Asynchronous invocation
  { method: 'put', path: '/v1/functions/{name}/async-config', tag: 'async', summary: 'Set retries, event age and destinations', body: asyncConfigSchema, responses: { 200: 'The async configuration' } },
  { method: 'get', path: '/v1/functions/{name}/async-config', tag: 'async', summary: 'The async configuration', responses: { 200: 'The async configuration' } },
  { method: 'get', path: '/v1/invocations/{id}', tag: 'async', summary: 'One invocation and its status', responses: { 200: '{id, function, status, attempts, result?, error?, createdAt, updatedAt}', 404: 'No such invocation' } },
  { method: 'get', path: '/v1/functions/{name}/dead-letters', tag: 'async', summary: 'Dead letters, newest first', query: q({ limit: limit(10_000, 1000) }), responses: { 200: '{items: [{id, event, error, attempts, failedAt}]}' } },
  { method: 'post', path: '/v1/functions/{name}/dead-letters/{id}/replay', tag: 'async', summary: 'Replay a dead letter as a new invocation', responses: { 202: '{invocationId}', 404: 'No such dead letter' } },
  { method: 'post', path: '/v1/functions/{name}/schedules', tag: 'async', summary: 'Schedule a function', body: createScheduleSchema, responses: { 201: '{id, function, expression, timezone, input, createdAt, nextRunAt}' } },
  { method: 'get', path: '/v1/functions/{name}/schedules', tag: 'async', summary: "A function's schedules", responses: { 200: '{schedules: [...]}' } },
  { method: 'delete', path: '/v1/functions/{name}/schedules/{id}', tag: 'async', summary: 'Delete a schedule', responses: { 204: 'Deleted' } },

  // APIs and routes
  { method: 'post', path: '/v1/apis', tag: 'apis', summary: 'Create an HTTP or WebSocket API', body: createApiSchema, responses: { 201: 'The API', 409: 'An API of that name exists' } },
  { method: 'get', path: '/v1/apis', tag: 'apis', summary: 'List APIs', responses: { 200: '{apis: [...]}' } },
  { method: 'get', path: '/v1/apis/{api}', tag: 'apis', summary: 'An API', responses: { 200: 'The API' } },
  { method: 'patch', path: '/v1/apis/{api}', tag: 'apis', summary: "Change an API's CORS, hosts or route selection", body: patchApiSchema, responses: { 200: 'The API' } },
  { method: 'delete', path: '/v1/apis/{api}', tag: 'apis', summary: 'Delete an API and its routes', responses: { 204: 'Deleted' } },
  { method: 'get', path: '/v1/apis/{api}/routes', tag: 'apis', summary: "An API's routes", responses: { 200: '{routes: [...]}' } },
  { method: 'post', path: '/v1/apis/{api}/routes', tag: 'apis', summary: 'Add a route', body: createRouteSchema, responses: { 201: 'The route' } },
  { method: 'delete', path: '/v1/apis/{api}/routes/{routeId}', tag: 'apis', summary: 'Delete a route', responses: { 204: 'Deleted' } },

  // Usage plans and API keys
  { method: 'post', path: '/v1/usage-plans', tag: 'usage-plans', summary: 'Create a usage plan', body: createUsagePlanSchema, responses: { 201: 'The usage plan' } },
  { method: 'get', path: '/v1/usage-plans', tag: 'usage-plans', summary: 'List usage plans', responses: { 200: '{items: [...]}' } },
  { method: 'get', path: '/v1/usage-plans/{id}', tag: 'usage-plans', summary: 'A usage plan', responses: { 200: 'The usage plan' } },
  { method: 'delete', path: '/v1/usage-plans/{id}', tag: 'usage-plans', summary: 'Delete a usage plan', responses: { 204: 'Deleted' } },
  { method: 'post', path: '/v1/api-keys', tag: 'usage-plans', summary: 'Create an API key (its value is shown only here)', body: createApiKeySchema, responses: { 201: '{id, name, value}' } },
  { method: 'get', path: '/v1/api-keys', tag: 'usage-plans', summary: 'List API keys', responses: { 200: '{items: [...]}' } },
  { method: 'get', path: '/v1/api-keys/{id}', tag: 'usage-plans', summary: 'An API key', responses: { 200: 'The API key' } },
  { method: 'delete', path: '/v1/api-keys/{id}', tag: 'usage-plans', summary: 'Delete an API key', responses: { 204: 'Deleted' } },
  { method: 'get', path: '/v1/api-keys/{id}/usage', tag: 'usage-plans', summary: "An API key's usage per UTC day and the quota left", query: q({ from: 'YYYY-MM-DD', to: 'YYYY-MM-DD' }), responses: { 200: 'Usage per day' } },
];

/** `/v1/functions/{name}` → `/v1/functions/:name`, the form Express routes are written in. */
export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}
