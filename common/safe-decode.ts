/**
 * Decoding of request text that cannot throw. `decodeURIComponent` raises a URIError on a
 * malformed escape (`%E0%A4%A`, `%zz`, an overlong or lone-surrogate UTF-8 sequence); left
 * uncaught inside a request listener, that error ends the process. Every server decodes paths,
 * query strings and ids through here and answers 400 (or keeps the raw text) instead.
 */

/** The decoded component, or undefined when one of its percent-escapes is malformed. */
export function decodeComponent(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

// C0 controls (NUL included) and DEL: no Gantry name, id or stored text holds them, and Postgres
// refuses NUL in text outright.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Whether `text` holds NUL or another control character. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

/**
 * Why a request target cannot be served, or undefined when every path segment and query
 * component decodes and none holds a control character. For servers that decode lazily (Express)
 * and would otherwise fail deep inside a handler or a database call.
 */
export function requestTargetProblem(url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const decodedPath = decodeComponent(path);
  if (decodedPath === undefined) return 'The request path has a malformed percent-escape.';
  if (hasControlCharacter(decodedPath)) return 'The request path contains a control character.';
  if (q < 0) return undefined;
  for (const part of url.slice(q + 1).split('&')) {
    const decoded = decodeComponent(part.replaceAll('+', ' '));
    if (decoded === undefined) return 'The query string has a malformed percent-escape.';
    if (hasControlCharacter(decoded)) return 'The query string contains a control character.';
  }
  return undefined;
}
