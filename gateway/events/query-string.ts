/**
 * Parses a raw query string into the 2.0 event's `queryStringParameters` (compat.md §3.1):
 * names and values decoded, repeated names joined with `,` in arrival order; and into every value
 * per name for format 1.0 (§4.1).
 *
 * `+` decodes to a space, as in HTML form encoding: that is what API Gateway does for query
 * strings (a `+` meant literally must be sent as `%2B`). A malformed percent-escape keeps its raw
 * text instead of failing the request.
 */
import { decodeComponent } from '../../common/safe-decode.js';

export function parseQueryString(rawQueryString: string): Record<string, string> {
  const joined: [string, string][] = [...parseQueryValues(rawQueryString)].map(([name, values]) => [name, values.join(',')]);
  // fromEntries defines own properties: `?__proto__=x` stays an ordinary key.
  return Object.fromEntries(joined);
}

/** Every value of every name, decoded, in arrival order (format 1.0's multi-value view). */
export function parseQueryValues(rawQueryString: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const pair of rawQueryString.split('&')) {
    if (pair === '') continue; // `a=1&&b=2`, or a lone `?`
    const equals = pair.indexOf('=');
    const name = decodeQueryComponent(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? '' : decodeQueryComponent(pair.slice(equals + 1));
    const list = values.get(name);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  return values;
}

export function decodeQueryComponent(text: string): string {
  const spaced = text.replaceAll('+', ' ');
  return decodeComponent(spaced) ?? spaced;
}
