/**
 * WebSocket route selection expressions (compat.md §6.1): `$request.body.<path>`, or a template
 * combining several (`${request.body.service}/${request.body.action}`). The path is the JSONPath
 * subset API Gateway documents: `.name`, `['name']` / `["name"]` and `[index]`.
 *
 * The admin API compiles an expression to reject a bad one with a reason; the gateway compiles it
 * once per route table, then evaluates it per message. Pure; never throws.
 */

export type PathStep = string | number;

/** Literal text, or the value at a path into the message body. */
type Part = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'body'; readonly path: readonly PathStep[] };

export interface RouteSelector {
  readonly expression: string;
  /** The selection value, or `undefined` when the body is not JSON (the `$default` route then). */
  select(body: string): string | undefined;
}

export type RouteSelectorResult = { readonly ok: true; readonly selector: RouteSelector } | { readonly ok: false; readonly reason: string };

export const DEFAULT_ROUTE_SELECTION_EXPRESSION = '$request.body.action';

export function compileRouteSelection(expression: string): RouteSelectorResult {
  const parts = expression.includes('${') ? parseTemplate(expression) : parseSingle(expression);
  if (typeof parts === 'string') return { ok: false, reason: parts };
  return { ok: true, selector: { expression, select: (body) => evaluate(parts, body) } };
}

/** The admin API's check: `undefined` when valid, else why not. */
export function routeSelectionProblem(expression: string): string | undefined {
  const r = compileRouteSelection(expression);
  return r.ok ? undefined : r.reason;
}

function parseSingle(expression: string): Part[] | string {
  const path = parseBodyPath(expression.slice(1), expression);
  return typeof path === 'string' ? path : [{ kind: 'body', path }];
}

function parseTemplate(expression: string): Part[] | string {
  const parts: Part[] = [];
  let i = 0;
  while (i < expression.length) {
    const open = expression.indexOf('${', i);
    if (open < 0) {
      parts.push({ kind: 'text', text: expression.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: 'text', text: expression.slice(i, open) });
    const close = expression.indexOf('}', open);
    if (close < 0) return `"${expression}" has a "\${" without its closing "}"`;
    const path = parseBodyPath(expression.slice(open + 2, close), expression);
    if (typeof path === 'string') return path;
    parts.push({ kind: 'body', path });
    i = close + 1;
  }
  return parts;
}

/** `request.body` followed by path steps. */
function parseBodyPath(text: string, expression: string): PathStep[] | string {
  const prefix = 'request.body';
  if (!text.startsWith(prefix)) return `"${expression}" must select from $request.body (e.g. $request.body.action)`;
  const steps: PathStep[] = [];
  let i = prefix.length;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      const m = /^[A-Za-z0-9_$-]+/.exec(text.slice(i + 1));
      if (!m) return `"${expression}" has an empty or invalid name after "."`;
      steps.push(m[0]);
      i += 1 + m[0].length;
    } else if (c === '[') {
      const m = /^\[(?:(\d+)|'([^']*)'|"([^"]*)")\]/.exec(text.slice(i));
      if (!m) return `"${expression}" has a "[" that is not [index], ['name'] or ["name"]`;
      steps.push(m[1] !== undefined ? Number(m[1]) : (m[2] ?? m[3] ?? ''));
      i += m[0].length;
    } else {
      return `"${expression}" has an unexpected "${c}"`;
    }
  }
  return steps;
}

function evaluate(parts: readonly Part[], body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  let out = '';
  for (const part of parts) out += part.kind === 'text' ? part.text : stringify(valueAt(parsed, part.path));
  return out;
}

function valueAt(root: unknown, path: readonly PathStep[]): unknown {
  let v = root;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(v)) return undefined;
      v = v[step];
    } else {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, step)) return undefined;
      v = (v as Record<string, unknown>)[step];
    }
  }
  return v;
}

/** A missing path is `""`; arrays and objects become their JSON text (poor keys, as AWS warns). */
function stringify(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
