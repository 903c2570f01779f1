/**
 * Reads what a Lambda authorizer returned (compat.md §8.2) and decides (pure):
 * - simple mode: `{"isAuthorized": bool, "context": {…}}`;
 * - otherwise an IAM policy, evaluated against the route's ARN: an explicit Deny wins, then an
 *   Allow of `execute-api:Invoke`; no matching statement is a denial.
 * A response of the wrong shape is `invalid` (500 Internal Server Error).
 */

export type AuthorizerResponse =
  | { readonly kind: 'simple'; readonly isAuthorized: boolean; readonly context: Record<string, unknown> | null }
  | { readonly kind: 'policy'; readonly principalId: string | undefined; readonly statements: readonly PolicyStatement[]; readonly context: Record<string, unknown> | null }
  | { readonly kind: 'invalid' };

export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export function parseAuthorizerResponse(payload: Buffer, simple: boolean): AuthorizerResponse {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { kind: 'invalid' };
  }
  if (!isObject(value)) return { kind: 'invalid' };
  const context = value['context'] === undefined || value['context'] === null ? null : isObject(value['context']) ? value['context'] : undefined;
  if (context === undefined) return { kind: 'invalid' };
  if (simple) return typeof value['isAuthorized'] === 'boolean' ? { kind: 'simple', isAuthorized: value['isAuthorized'], context } : { kind: 'invalid' };
  const statements = statementsOf(value['policyDocument']);
  const principalId = value['principalId'];
  if (!statements || (principalId !== undefined && typeof principalId !== 'string')) return { kind: 'invalid' };
  return { kind: 'policy', principalId, statements, context };
}

/** True when the response lets this request through to `routeArn`. */
export function isAllowed(response: Exclude<AuthorizerResponse, { kind: 'invalid' }>, routeArn: string): boolean {
  if (response.kind === 'simple') return response.isAuthorized;
  const applies = (s: PolicyStatement) => s.actions.some(isInvokeAction) && s.resources.some((r) => arnMatches(r, routeArn));
  if (response.statements.some((s) => s.effect === 'Deny' && applies(s))) return false;
  return response.statements.some((s) => s.effect === 'Allow' && applies(s));
}

/** IAM resource matching: `*` spans any run of characters, `?` exactly one. */
export function arnMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&'))).join('')}$`);
  return regex.test(arn);
}

function isInvokeAction(action: string): boolean {
  const a = action.toLowerCase();
  return a === '*' || a === 'execute-api:*' || a === 'execute-api:invoke';
}

function statementsOf(doc: unknown): PolicyStatement[] | undefined {
  if (!isObject(doc)) return undefined;
  const raw = doc['Statement'];
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!list) return undefined;
  const out: PolicyStatement[] = [];
  for (const s of list) {
    if (!isObject(s)) return undefined;
    const effect = s['Effect'];
    const actions = stringOrList(s['Action']);
    const resources = stringOrList(s['Resource']);
    if ((effect !== 'Allow' && effect !== 'Deny') || !actions || !resources) return undefined;
    out.push({ effect, actions, resources });
  }
  return out;
}

function stringOrList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
