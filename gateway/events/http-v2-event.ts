/**
 * Builds the API Gateway HTTP API payload-format-2.0 event (compat.md §3.1) from what the
 * gateway saw on the wire.
 *
 * Promises: the exact key set and key order of the compat.md example (so events can be compared
 * as JSON text); optional keys (`cookies`, `queryStringParameters`, `pathParameters`, `body`) are
 * left out, never `null`, when empty; `isBase64Encoded` is always present.
 * Pure: the request id and the time are the caller's; nothing here reads a clock or does I/O.
 */
import { isUtf8 } from 'node:buffer';
import { formatClfTime } from './clf-time.js';
import { parseQueryString } from './query-string.js';

export { formatClfTime } from './clf-time.js';

export interface HttpV2EventInput {
  readonly routeKey: string;
  readonly method: string;
  /** Path the function sees (api.md: without the `/{apiName}` prefix), percent-encoding kept. */
  readonly rawPath: string;
  /** Everything after `?`, as sent; `''` when there is none. */
  readonly rawQueryString: string;
  /** Node's `IncomingMessage.rawHeaders`: alternating name, value, in arrival order. */
  readonly rawHeaders: readonly string[];
  /** `undefined` or empty means no body. */
  readonly body: Buffer | undefined;
  readonly sourceIp: string;
  /** `IncomingMessage.httpVersion`, e.g. `'1.1'`. */
  readonly httpVersion: string;
  readonly apiId: string;
  /** The request's Host (api.md), passed through as given. */
  readonly domainName: string;
  readonly requestId: string;
  readonly timeEpochMs: number;
  readonly pathParameters: Record<string, string> | undefined;
  /** Defaults to `$default`. */
  readonly stage?: string;
  /** `requestContext.authorizer` (`{jwt: …}` or `{lambda: …}`); absent without an authorizer. */
  readonly authorizer?: Readonly<Record<string, unknown>>;
}

export interface HttpV2RequestContext {
  readonly accountId: string;
  readonly apiId: string;
  readonly domainName: string;
  readonly domainPrefix: string;
  readonly http: {
    readonly method: string;
    readonly path: string;
    readonly protocol: string;
    readonly sourceIp: string;
    readonly userAgent: string;
  };
  readonly requestId: string;
  readonly routeKey: string;
  readonly stage: string;
  readonly time: string;
  readonly timeEpoch: number;
  readonly authorizer?: Readonly<Record<string, unknown>>;
}

export interface HttpV2Event {
  readonly version: '2.0';
  readonly routeKey: string;
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly cookies?: readonly string[];
  readonly headers: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
  readonly pathParameters?: Record<string, string>;
  readonly requestContext: HttpV2RequestContext;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

/** Every account id Gantry reports (api.md: ARNs use `000000000000`). */
export const ACCOUNT_ID = '000000000000';

export function buildHttpV2Event(input: HttpV2EventInput): HttpV2Event {
  const { headers, cookies } = collectHeaders(input.rawHeaders);
  const query = input.rawQueryString === '' ? undefined : parseQueryString(input.rawQueryString);
  const body = encodeBody(input.body, headers['content-type']);
  // Spreads keep the compat.md key order while leaving empty optional keys out entirely.
  return {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: input.rawPath,
    rawQueryString: input.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query && Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(input.pathParameters ? { pathParameters: input.pathParameters } : {}),
    requestContext: buildRequestContext(input, headers['user-agent'] ?? ''),
    ...(body ? { body: body.text } : {}),
    isBase64Encoded: body?.isBase64Encoded ?? false,
  };
}

function buildRequestContext(input: HttpV2EventInput, userAgent: string): HttpV2RequestContext {
  return {
    accountId: ACCOUNT_ID,
    apiId: input.apiId,
    domainName: input.domainName,
    domainPrefix: domainPrefixOf(input.domainName),
    http: {
      method: input.method,
      path: input.rawPath,
      protocol: `HTTP/${input.httpVersion}`,
      sourceIp: input.sourceIp,
      userAgent,
    },
    requestId: input.requestId,
    routeKey: input.routeKey,
    stage: input.stage ?? '$default',
    time: formatClfTime(input.timeEpochMs),
    timeEpoch: input.timeEpochMs,
    ...(input.authorizer ? { authorizer: input.authorizer } : {}),
  };
}

/** The first DNS label; a `:port` on the Host is not part of it. */
export function domainPrefixOf(domainName: string): string {
  const host = domainName.replace(/:\d*$/, '');
  return host.split('.')[0] ?? host;
}

/**
 * Lower-cases names and joins repeats with `,` (compat.md §3.1). Every `Cookie` header is split
 * into `cookies` instead and kept out of `headers`. We split on `;` and trim, which accepts the
 * standard `; ` separator and also a client that omits the space.
 */
function collectHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; cookies: string[] } {
  const joined = new Map<string, string>();
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (name === 'cookie') {
      for (const cookie of value.split(';')) if (cookie.trim() !== '') cookies.push(cookie.trim());
      continue;
    }
    const previous = joined.get(name);
    joined.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  // fromEntries defines own properties: a header named `__proto__` stays an ordinary key.
  return { headers: Object.fromEntries(joined), cookies };
}

/**
 * Which bodies go as text is unconfirmed for HTTP APIs (compat.md §3.1); we use the suggested
 * rule: text-like content types, or no content type at all, as UTF-8. A body that is not valid
 * UTF-8 is always base64, even under a text type, because decoding it would corrupt the bytes.
 */
export function encodeBody(
  body: Buffer | undefined,
  contentType: string | undefined,
): { text: string; isBase64Encoded: boolean } | undefined {
  if (!body || body.length === 0) return undefined;
  const asText = (contentType === undefined || isTextLike(contentType)) && isUtf8(body);
  return asText
    ? { text: body.toString('utf8'), isBase64Encoded: false }
    : { text: body.toString('base64'), isBase64Encoded: true };
}

function isTextLike(contentType: string): boolean {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    mediaType.startsWith('text/') ||
    mediaType.includes('json') ||
    mediaType.includes('xml') ||
    mediaType.includes('javascript') ||
    mediaType === 'application/x-www-form-urlencoded'
  );
}
