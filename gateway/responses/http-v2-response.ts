/**
 * Maps a function's result to the HTTP response of a payload-format-2.0 route (compat.md §3.2).
 *
 * Promises: never throws, whatever the function returned; every header it emits is safe to hand
 * to Node's `setHeader`/`writeHead` (a name or value Node would reject makes the whole response
 * malformed, so a function cannot crash the gateway's response path). A function error, a
 * payload that is not JSON, or a malformed structured response all become
 * `500 {"message":"Internal Server Error"}`. Header names keep the function's spelling.
 * Pure: no I/O; `apigw-requestid` and CORS headers are the caller's to add.
 */

export interface HttpV2InvokeResult {
  /** The function's result as posted by the runtime. */
  readonly payload: Buffer;
  /** The invoke reported a function error (`X-Amz-Function-Error`). */
  readonly functionError: boolean;
}

export interface MappedResponse {
  readonly statusCode: number;
  /** A list rather than a map so several `set-cookie` (or other repeated) headers survive. */
  readonly headers: [string, string][];
  readonly body: Buffer;
}

export type JsonObject = { readonly [key: string]: unknown };

export const JSON_CONTENT_TYPE: [string, string] = ['content-type', 'application/json'];
// RFC 9110 token characters: what Node accepts as a header name.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Node accepts as a header value: no control characters besides tab, nothing above 0xFF.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function mapHttpV2Result(result: HttpV2InvokeResult): MappedResponse {
  if (result.functionError) return internalServerError();
  const text = result.payload.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return internalServerError(); // compat.md §3.2 rule 4 (unconfirmed): not JSON → 500
  }
  if (isJsonObject(value) && Object.hasOwn(value, 'statusCode')) {
    return mapStructured(value) ?? internalServerError();
  }
  // Inferred response (rule 3). A string is sent bare; anything else as the function's own JSON
  // text, not re-serialised, so large integers and number formatting reach the client unchanged.
  const body = typeof value === 'string' ? value : text.trim();
  return { statusCode: 200, headers: [[...JSON_CONTENT_TYPE]], body: Buffer.from(body, 'utf8') };
}

/** `undefined` when the structured response is malformed. */
function mapStructured(value: JsonObject): MappedResponse | undefined {
  const statusCode = statusCodeOf(value['statusCode']);
  const headers = headerLines(value['multiValueHeaders'], value['headers']);
  const cookies = cookieLines(value['cookies']);
  const body = bodyOf(value['body'], value['isBase64Encoded'] === true);
  if (statusCode === undefined || !headers || !cookies) return undefined;
  // The content type for a structured response without one is unconfirmed (compat.md §3.2);
  // HTTP APIs are reported to send application/json, the same as for an inferred response.
  if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) headers.push([...JSON_CONTENT_TYPE]);
  return { statusCode, headers: [...headers, ...cookies], body };
}

/**
 * An integer in 200–599. Numeric strings are not accepted (they are in format 1.0): §3.2 says
 * an integer. 1xx codes are refused because they cannot be a final response.
 */
function statusCodeOf(raw: unknown): number | undefined {
  return typeof raw === 'number' && Number.isInteger(raw) && raw >= 200 && raw <= 599 ? raw : undefined;
}

/**
 * `multiValueHeaders` is documented only for format 1.0; we honour it as serverless-offline
 * does (compat.md §3.2, unconfirmed) with the 1.0 merge rules (§4.2): multi-value lines first,
 * then `headers`, and a name/value pair present in both (name case-insensitive) is sent once.
 */
export function headerLines(multiValueHeaders: unknown, headers: unknown): [string, string][] | undefined {
  const lines: [string, string][] = [];
  if (multiValueHeaders !== undefined && multiValueHeaders !== null) {
    if (!isJsonObject(multiValueHeaders)) return undefined;
    for (const [name, values] of Object.entries(multiValueHeaders)) {
      if (!Array.isArray(values)) return undefined;
      for (const item of values) {
        const line = headerLine(name, item);
        if (!line) return undefined;
        lines.push(line);
      }
    }
  }
  if (headers === undefined || headers === null) return lines;
  if (!isJsonObject(headers)) return undefined;
  const fromMulti = new Set(lines.map(([name, v]) => `${name.toLowerCase()}\n${v}`));
  for (const [name, item] of Object.entries(headers)) {
    const line = headerLine(name, item);
    if (!line) return undefined;
    if (!fromMulti.has(`${name.toLowerCase()}\n${line[1]}`)) lines.push(line);
  }
  return lines;
}

/**
 * Strings pass through unchanged; numbers and booleans are stringified (as format 1.0 does).
 * Anything else, including a list (unconfirmed for 2.0; `multiValueHeaders` exists for that),
 * or a value Node would refuse to send, makes the response malformed.
 */
export function headerLine(name: string, raw: unknown): [string, string] | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return undefined;
  const value = String(raw);
  return HEADER_NAME.test(name) && HEADER_VALUE.test(value) ? [name, value] : undefined;
}

function cookieLines(cookies: unknown): [string, string][] | undefined {
  if (cookies === undefined || cookies === null) return [];
  if (!Array.isArray(cookies)) return undefined;
  const lines: [string, string][] = [];
  for (const cookie of cookies) {
    const line = typeof cookie === 'string' ? headerLine('set-cookie', cookie) : undefined;
    if (!line) return undefined;
    lines.push(line);
  }
  return lines;
}

/** A missing body is empty; a non-string body is sent as its JSON text (never base64-decoded). */
function bodyOf(body: unknown, isBase64Encoded: boolean): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function internalServerError(): MappedResponse {
  return {
    statusCode: 500,
    headers: [[...JSON_CONTENT_TYPE]],
    body: Buffer.from('{"message":"Internal Server Error"}', 'utf8'),
  };
}
