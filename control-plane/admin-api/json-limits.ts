/**
 * Nesting limits for JSON the admin API stores. A stored value is later serialised, copied and
 * walked by code that recurses (JSON.stringify, pg, the async worker), so a value nested 100 000
 * deep must be refused when it arrives, with the field named. Both checks here are iterative:
 * they never recurse on the untrusted value themselves.
 */

/**
 * How deep one stored field may nest (`[]` and `{}` are one level). Deeper than any real config
 * or schedule input needs, and far below what recursive code can handle.
 */
export const MAX_FIELD_DEPTH = 64;

export function depthProblem(maxDepth: number): string {
  return `nested deeper than ${maxDepth} levels`;
}

/** True when `value` (a parsed JSON value) nests at most `maxDepth` levels. */
export function nestsAtMost(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  // Each container is visited once, so the walk is bounded by the size of the value.
  const stack: [object, number][] = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [container, depth] = next;
    if (depth > maxDepth) return false;
    const children: unknown[] = Array.isArray(container) ? container : Object.values(container);
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return true;
}

/**
 * The first top-level field of a JSON object body nested deeper than `maxDepth` (depth counted
 * from the field's own value), or `undefined` when every field is within the limit.
 */
export function tooDeepField(body: Record<string, unknown>, maxDepth: number): string | undefined {
  for (const [field, value] of Object.entries(body)) {
    if (!nestsAtMost(value, maxDepth)) return field;
  }
  return undefined;
}

export type RawDepthResult = { readonly ok: true } | { readonly ok: false; readonly field: string | undefined };

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** A field name longer than this is shown cut; the message only has to point at it. */
const MAX_SHOWN_FIELD = 64;

/**
 * The same limit checked on raw UTF-8 JSON text before it is parsed, in one linear pass over the
 * bytes, so a body of a million `[` never becomes a million nested arrays. Depth is counted from
 * the value of each top-level field, like `tooDeepField`; when the body itself is not an object,
 * `field` is undefined. Text that is not valid JSON is left to the parser to reject.
 */
export function rawFieldDepth(buf: Uint8Array, maxDepth: number): RawDepthResult {
  let depth = 0;
  let topIsObject = false;
  // The last string that ended at depth 1 of an object body: the key of the value that follows.
  let lastKeyStart = -1;
  let lastKeyEnd = -1;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === QUOTE) {
      // Strings are skipped with a native search (a 70 MiB base64 zip is one string).
      const close = closingQuote(buf, i);
      if (close < 0) return { ok: true };
      if (depth === 1 && topIsObject) {
        lastKeyStart = i;
        lastKeyEnd = close + 1;
      }
      i = close;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (depth === 0) topIsObject = b === OPEN_BRACE;
      depth++;
      // Depth 1 is the body itself; a field's value starts at depth 2.
      const fieldDepth = topIsObject ? depth - 1 : depth;
      if (fieldDepth > maxDepth) {
        return { ok: false, field: topIsObject ? fieldName(buf, lastKeyStart, lastKeyEnd) : undefined };
      }
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      if (depth > 0) depth--;
    }
  }
  return { ok: true };
}

/**
 * The index of the quote that ends the string opened at `open`, or -1 when it never ends. A quote
 * preceded by an odd run of backslashes is escaped; each run is counted once, so this is linear.
 */
function closingQuote(buf: Uint8Array, open: number): number {
  for (let from = open + 1; ; ) {
    const q = buf.indexOf(QUOTE, from);
    if (q < 0) return -1;
    let backslashes = 0;
    for (let k = q - 1; k > open && buf[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q + 1;
  }
}

function fieldName(buf: Uint8Array, start: number, end: number): string | undefined {
  if (start < 0) return undefined;
  try {
    const name: unknown = JSON.parse(Buffer.from(buf.subarray(start, end)).toString('utf8'));
    if (typeof name !== 'string') return undefined;
    return name.length > MAX_SHOWN_FIELD ? `${name.slice(0, MAX_SHOWN_FIELD)}…` : name;
  } catch {
    return undefined;
  }
}
