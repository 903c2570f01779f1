/**
 * Untrusted JSON text (events, results and error bodies of functions) handled without recursion.
 * V8 parses arbitrarily deep JSON iteratively, but `JSON.stringify` (and Postgres' jsonb) recurse
 * and fail on it: a value nested 100 000 deep parses fine and then throws `RangeError` the moment
 * it is serialised again. So such text is passed on as text, spliced into what is sent, and only
 * values known to be shallow are ever turned into objects.
 */

/** Deepest nesting that is parsed into a value (for views and stored errors); deeper stays text. */
export const MAX_VALUE_DEPTH = 64;

/**
 * Nesting depth of JSON text (0 for a scalar), counting brackets outside strings; stops counting
 * once past `stopAt`. Linear in the length, no recursion; meaningful for valid JSON only.
 */
export function jsonDepth(text: string, stopAt = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > stopAt) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** JSON text as itself, anything else as a JSON string: what to splice into a JSON document. */
export function asJsonText(text: string): string {
  if (text === '') return 'null';
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

/**
 * JSON as its value when it is at most `MAX_VALUE_DEPTH` deep; deeper JSON, and anything that is
 * not JSON (a `provided` function may return raw bytes), as a string.
 */
export function parseOrText(text: string): unknown {
  if (text === '') return null;
  if (jsonDepth(text, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
