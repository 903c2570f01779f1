/**
 * What a function's result means on a WebSocket API (compat.md §6.3): for `$connect`, accept the
 * handshake (with the subprotocol the function chose) or reject it with the function's status and
 * body; for a two-way route, the frame to send back (the result's `body`). Pure.
 */

export type ConnectOutcome =
  | { readonly accept: true; readonly protocol: string | undefined }
  | { readonly accept: false; readonly status: number; readonly body: Buffer; readonly contentType: string | undefined };

/** API Gateway's body for a failed integration (the same text on HTTP payload 1.0 routes). */
export const INTEGRATION_FAILURE_BODY = '{"message": "Internal server error"}';

export function connectOutcome(payload: Buffer, functionError: boolean): ConnectOutcome {
  if (functionError) return reject(502, Buffer.from(INTEGRATION_FAILURE_BODY), 'application/json');
  const result = parse(payload);
  if (result === undefined) return reject(502, Buffer.from(INTEGRATION_FAILURE_BODY), 'application/json');
  // A result without a status code (even `null`) lets the connection open, as a 200 would.
  if (!isObject(result) || typeof result['statusCode'] !== 'number') return { accept: true, protocol: undefined };
  const status = result['statusCode'];
  const headers = isObject(result['headers']) ? result['headers'] : {};
  if (status >= 200 && status < 300) {
    const protocol = headerOf(headers, 'sec-websocket-protocol');
    return { accept: true, protocol: protocol === undefined || protocol === '' ? undefined : protocol };
  }
  const body = bodyOf(result) ?? Buffer.alloc(0);
  const contentType = headerOf(headers, 'content-type');
  return reject(Number.isInteger(status) && status >= 100 && status <= 599 ? status : 502, body, contentType);
}

/** The frame a two-way route sends back: the result's `body`, or nothing when it has none. */
export function routeResponseOf(payload: Buffer): string | Buffer | undefined {
  const result = parse(payload);
  if (!isObject(result)) return undefined;
  return bodyOf(result);
}

function bodyOf(result: Record<string, unknown>): string | Buffer | undefined {
  const body = result['body'];
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'string') return JSON.stringify(body);
  return result['isBase64Encoded'] === true ? Buffer.from(body, 'base64') : body;
}

function reject(status: number, body: string | Buffer, contentType: string | undefined): ConnectOutcome {
  return { accept: false, status, body: typeof body === 'string' ? Buffer.from(body) : body, contentType };
}

function parse(payload: Buffer): unknown {
  if (payload.length === 0) return null;
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

function headerOf(headers: Record<string, unknown>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && typeof v === 'string') return v;
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
