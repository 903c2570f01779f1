/**
 * Resolves identity-source expressions (compat.md §8.2) against one request:
 * `$request.header.<name>` (case-insensitive), `$request.querystring.<name>` (case-sensitive),
 * `$context.<variable>` and `$stageVariables.<name>` (Gantry has no stage variables, so those are
 * always missing). An empty value counts as missing, as API Gateway treats it.
 * Pure.
 */

export interface IdentityRequest {
  /** Lower-cased names; repeated headers joined with `,` (the 2.0 event's view). */
  readonly headers: Readonly<Record<string, string>>;
  /** Decoded; repeated names joined with `,`. */
  readonly query: Readonly<Record<string, string>>;
  /** `$context` variables that exist for this request (`routeKey`, `httpMethod`, …). */
  readonly context: Readonly<Record<string, string>>;
}

export function resolveIdentitySource(expression: string, request: IdentityRequest): string | undefined {
  let value: string | undefined;
  if (expression.startsWith('$request.header.')) value = own(request.headers, expression.slice('$request.header.'.length).toLowerCase());
  else if (expression.startsWith('$request.querystring.')) value = own(request.query, expression.slice('$request.querystring.'.length));
  else if (expression.startsWith('$context.')) value = own(request.context, expression.slice('$context.'.length));
  return value === undefined || value === '' ? undefined : value;
}

/** Every source's value in order, or `undefined` when any one is missing (→ 401, compat.md §8.2). */
export function resolveIdentitySources(expressions: readonly string[], request: IdentityRequest): string[] | undefined {
  const values: string[] = [];
  for (const expression of expressions) {
    const value = resolveIdentitySource(expression, request);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

function own(map: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
