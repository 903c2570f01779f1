/**
 * The plan of `gantry up`: what must change on the server so that it matches the file. Pure (the
 * state on both sides comes in, the list of changes goes out), so it is tested without a server.
 * Functions and APIs absent from the file are deleted only with `prune`; the schedules of a
 * declared function and the routes of a declared API are exactly those of the file.
 */
import type { ApiDecl, FunctionDecl, Manifest, RouteDecl, ScheduleDecl } from './manifest.js';

export interface CurrentFunction {
  readonly runtime: string;
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly codeSha256: string;
  readonly schedules: readonly (ScheduleDecl & { readonly id: string })[];
}

export interface CurrentRoute extends RouteDecl {
  readonly id: string;
}

export interface CurrentApi {
  readonly protocol: string;
  readonly routes: readonly CurrentRoute[];
}

export interface CurrentState {
  readonly functions: ReadonlyMap<string, CurrentFunction>;
  readonly apis: ReadonlyMap<string, CurrentApi>;
}

export type Change =
  | { readonly action: 'create' | 'update'; readonly kind: 'function'; readonly name: string; readonly fields: readonly string[] }
  | { readonly action: 'delete'; readonly kind: 'function'; readonly name: string }
  | { readonly action: 'create'; readonly kind: 'schedule'; readonly function: string; readonly schedule: ScheduleDecl }
  | { readonly action: 'delete'; readonly kind: 'schedule'; readonly function: string; readonly id: string; readonly schedule: ScheduleDecl }
  | { readonly action: 'create'; readonly kind: 'api'; readonly name: string; readonly protocol: ApiDecl['protocol'] }
  | { readonly action: 'delete'; readonly kind: 'api'; readonly name: string }
  | { readonly action: 'create'; readonly kind: 'route'; readonly api: string; readonly route: RouteDecl }
  | { readonly action: 'delete'; readonly kind: 'route'; readonly api: string; readonly id: string; readonly route: RouteDecl };

export class PlanError extends Error {}

/**
 * In the order they can be applied: functions before the schedules and routes that name them,
 * a changed route deleted before it is created again, deletions of whole functions and APIs last.
 */
export function planChanges(want: Manifest, codeSha256: ReadonlyMap<string, string>, have: CurrentState, opts: { prune: boolean }): Change[] {
  const changes: Change[] = [];
  for (const [name, f] of Object.entries(want.functions)) {
    const cur = have.functions.get(name);
    const sha = codeSha256.get(name) ?? '';
    if (cur === undefined) changes.push({ action: 'create', kind: 'function', name, fields: [] });
    else {
      const fields = functionFields(f, sha, cur);
      if (fields.length > 0) changes.push({ action: 'update', kind: 'function', name, fields });
    }
    const current = cur?.schedules ?? [];
    const wanted = f.schedules.map(scheduleKey);
    for (const s of current) if (!wanted.includes(scheduleKey(s))) changes.push({ action: 'delete', kind: 'schedule', function: name, id: s.id, schedule: plainSchedule(s) });
    const present = current.map(scheduleKey);
    for (const s of f.schedules) if (!present.includes(scheduleKey(s))) changes.push({ action: 'create', kind: 'schedule', function: name, schedule: s });
  }
  for (const [name, api] of Object.entries(want.apis)) {
    const cur = have.apis.get(name);
    if (cur !== undefined && cur.protocol !== api.protocol) {
      throw new PlanError(`apis.${name}.protocol: the API exists with protocol ${cur.protocol}; a protocol cannot change (gantry api rm ${name} first)`);
    }
    if (cur === undefined) changes.push({ action: 'create', kind: 'api', name, protocol: api.protocol });
    for (const [i, r] of api.routes.entries()) {
      if (want.functions[r.function] === undefined && !have.functions.has(r.function)) {
        throw new PlanError(`apis.${name}.routes[${i}].function: no function ${r.function} in the file or on the server`);
      }
    }
    const current = cur?.routes ?? [];
    const wanted = new Map(api.routes.map((r) => [r.routeKey, r]));
    const kept = new Set<string>();
    for (const r of current) {
      const w = wanted.get(r.routeKey);
      if (w !== undefined && sameRoute(w, r)) kept.add(r.routeKey);
      else changes.push({ action: 'delete', kind: 'route', api: name, id: r.id, route: plainRoute(r) });
    }
    for (const r of api.routes) if (!kept.has(r.routeKey)) changes.push({ action: 'create', kind: 'route', api: name, route: r });
  }
  if (opts.prune) {
    for (const name of have.apis.keys()) if (want.apis[name] === undefined) changes.push({ action: 'delete', kind: 'api', name });
    for (const name of have.functions.keys()) if (want.functions[name] === undefined) changes.push({ action: 'delete', kind: 'function', name });
  }
  return changes;
}

/** What differs, as `field` or `field: old → new` for people to read. */
function functionFields(f: FunctionDecl, sha: string, cur: CurrentFunction): string[] {
  const fields: string[] = [];
  if (sha !== cur.codeSha256) fields.push('code');
  for (const k of ['runtime', 'handler', 'memoryMb', 'timeoutMs'] as const) {
    if (f[k] !== cur[k]) fields.push(`${k}: ${cur[k]} → ${f[k]}`);
  }
  if (stableJson(f.environment) !== stableJson(cur.environment)) fields.push('environment');
  return fields;
}

function sameRoute(a: RouteDecl, b: RouteDecl): boolean {
  return a.function === b.function && a.payloadFormatVersion === b.payloadFormatVersion && a.apiKeyRequired === b.apiKeyRequired;
}

function plainRoute(r: RouteDecl): RouteDecl {
  return { routeKey: r.routeKey, function: r.function, payloadFormatVersion: r.payloadFormatVersion, apiKeyRequired: r.apiKeyRequired };
}

function plainSchedule(s: ScheduleDecl): ScheduleDecl {
  return s.input === undefined || s.input === null ? { expression: s.expression, timezone: s.timezone } : { expression: s.expression, timezone: s.timezone, input: s.input };
}

function scheduleKey(s: ScheduleDecl): string {
  return stableJson([s.expression, s.timezone, s.input ?? null]);
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function describeChange(c: Change): string {
  const sign = c.action === 'create' ? '+' : c.action === 'delete' ? '-' : '~';
  switch (c.kind) {
    case 'function':
      return c.action === 'update' ? `${sign} function ${c.name} (${c.fields.join(', ')})` : `${sign} function ${c.name}`;
    case 'schedule':
      return `${sign} schedule ${c.function}: ${c.schedule.expression} (${c.schedule.timezone})`;
    case 'api':
      return c.action === 'create' ? `${sign} api ${c.name} (${c.protocol})` : `${sign} api ${c.name}`;
    case 'route':
      return `${sign} route ${c.api}: ${c.route.routeKey} → ${c.route.function}`;
  }
}

export function summary(changes: readonly Change[]): string {
  if (changes.length === 0) return 'No changes: the server matches the file.';
  const n = (a: Change['action']) => changes.filter((c) => c.action === a).length;
  return `Plan: ${n('create')} to create, ${n('update')} to update, ${n('delete')} to delete.`;
}
