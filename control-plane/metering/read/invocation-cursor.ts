/**
 * The opaque `cursor` of `GET /v1/functions/{name}/invocations`: the position (start time in µs,
 * invocation id, attempt) of the last entry of a page, base64url-encoded. Pages are keyset
 * ranges, so entries arriving between two calls never shift or repeat a page.
 */

export interface InvocationCursor {
  /** started_at in microseconds since the epoch, as text so Postgres compares it exactly. */
  readonly startedAtUs: string;
  readonly id: string;
  readonly attempt: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(c: InvocationCursor): string {
  return Buffer.from(JSON.stringify([c.startedAtUs, c.id, c.attempt]), 'utf8').toString('base64url');
}

/** The cursor, or undefined when `text` is not one this endpoint issued. */
export function decodeCursor(text: string): InvocationCursor | undefined {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
  const [t, id, attempt] = parsed as unknown[];
  if (typeof t !== 'string' || !/^-?\d{1,19}$/.test(t)) return undefined;
  if (typeof id !== 'string' || !UUID.test(id)) return undefined;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1 || attempt > 1_000_000) return undefined;
  return { startedAtUs: t, id, attempt };
}
