/**
 * Builds the payload-format-1.0 event (compat.md §4.1) that a route with
 * `"payloadFormatVersion": "1.0"` sends: the REST proxy shape as HTTP APIs send it, so it carries
 * `"version": "1.0"` and lower-cased header names.
 *
 * Promises: the key order of the compat.md example (with `version` first); `headers` and
 * `queryStringParameters` hold the last value of a repeated name and the `multiValue…` maps hold
 * all of them; empty `queryStringParameters`, `multiValueQueryStringParameters`,
 * `pathParameters`, `stageVariables` and `body` are `null`, never left out; the `Cookie` header
 * stays a header (1.0 has no `cookies`); `requestContext.identity` has every key of the example.
 * Pure: ids and time are the caller's.
 */
import { formatClfTime } from './clf-time.js';
import { ACCOUNT_ID, domainPrefixOf, encodeBody, type HttpV2EventInput } from './http-v2-event.js';
import { parseQueryValues } from './query-string.js';

export interface HttpV1EventInput extends HttpV2EventInput {
  /** The route's path template (`/pets/{id}`), or `$default`. */
  readonly resource: string;
  /** The route's id (`requestContext.resourceId`). */
  readonly resourceId: string;
  /** The path as the client sent it, with the `/{api}` prefix when it came through one (the
   *  equivalent of the stage prefix `requestContext.path` keeps, compat.md §4.1). */
  readonly requestPath: string;
  /** The key the request was admitted with, on routes that require one. */
  readonly apiKey?: { readonly value: string; readonly id: string };
  /** The configuration revision served (`requestContext.deploymentId`). */
  readonly deploymentId: string;
}

export interface HttpV1Event {
  readonly version: '1.0';
  readonly resource: string;
  readonly path: string;
  readonly httpMethod: string;
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly queryStringParameters: Record<string, string> | null;
  readonly multiValueQueryStringParameters: Record<string, string[]> | null;
  readonly pathParameters: Record<string, string> | null;
  readonly stageVariables: null;
  readonly requestContext: Record<string, unknown>;
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
}

export function buildHttpV1Event(input: HttpV1EventInput): HttpV1Event {
  const { headers, multiValueHeaders } = collectHeaders(input.rawHeaders);
  const query = parseQueryValues(input.rawQueryString);
  const body = encodeBody(input.body, headers['content-type']);
  return {
    version: '1.0',
    resource: input.resource,
    path: input.rawPath,
    httpMethod: input.method,
    headers,
    multiValueHeaders,
    // compat.md §4.1: a repeated query name keeps its last value here, all of them below.
    queryStringParameters: query.size === 0 ? null : Object.fromEntries([...query].map(([k, v]) => [k, v[v.length - 1] ?? ''])),
    multiValueQueryStringParameters: query.size === 0 ? null : Object.fromEntries(query),
    pathParameters: input.pathParameters ?? null,
    stageVariables: null,
    requestContext: buildRequestContext(input, headers['user-agent'] ?? ''),
    body: body?.text ?? null,
    isBase64Encoded: body?.isBase64Encoded ?? false,
  };
}

function buildRequestContext(input: HttpV1EventInput, userAgent: string): Record<string, unknown> {
  return {
    accountId: ACCOUNT_ID,
    apiId: input.apiId,
    resourceId: input.resourceId,
    resourcePath: input.resource,
    httpMethod: input.method,
    path: input.requestPath,
    stage: input.stage ?? '$default',
    protocol: `HTTP/${input.httpVersion}`,
    requestId: input.requestId,
    extendedRequestId: input.requestId,
    requestTime: formatClfTime(input.timeEpochMs),
    requestTimeEpoch: input.timeEpochMs,
    domainName: input.domainName,
    domainPrefix: domainPrefixOf(input.domainName),
    deploymentId: input.deploymentId,
    identity: {
      sourceIp: input.sourceIp,
      userAgent,
      apiKey: input.apiKey?.value ?? null,
      apiKeyId: input.apiKey?.id ?? null,
      accessKey: null,
      accountId: null,
      caller: null,
      user: null,
      userArn: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      cognitoAuthenticationType: null,
      cognitoAuthenticationProvider: null,
      principalOrgId: null,
    },
    ...(input.authorizer ? { authorizer: input.authorizer } : {}),
  };
}

/** Names lower-cased (HTTP APIs do, compat.md §4.1); `headers` keeps the last value of a repeat. */
function collectHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const all = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    const list = all.get(name);
    if (list) list.push(value);
    else all.set(name, [value]);
  }
  // fromEntries defines own properties: a header named `__proto__` stays an ordinary key.
  return {
    headers: Object.fromEntries([...all].map(([k, v]) => [k, v[v.length - 1] ?? ''])),
    multiValueHeaders: Object.fromEntries(all),
  };
}
