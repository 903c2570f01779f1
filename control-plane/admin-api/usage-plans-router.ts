/**
 * Admin API: usage plans and API keys (api.md, Usage plans and keys). A key's value appears in
 * the create response only. Usage is read from the Redis counters the gateways keep.
 */
import { Router } from 'express';
import { GantryError } from '../../common/errors.js';
import { quotaLimitAt, quotaPeriodStartMs, utcDate, type UsageKeys } from '../../common/usage-keys.js';
import { createApiKeySchema, createUsagePlanSchema, DATE } from './gateway-options-schemas.js';
import { parseBody } from './validation.js';
import { DEFAULT_TENANT } from '../functions/function-types.js';
import type { ApiStore } from '../apis/api-store.js';
import { generateApiKeyValue, type ApiKeyRecord, type UsagePlanRecord, type UsagePlanStore } from '../usage-plans/usage-plan-store.js';
import { jsonBody, param } from './express-helpers.js';

/** Reads integer counters by name; a missing counter is 0. */
export interface UsageCounters {
  read(names: readonly string[]): Promise<number[]>;
}

export interface UsagePlansRouterDeps {
  readonly plans: UsagePlanStore;
  readonly apis: ApiStore;
  readonly counters: UsageCounters;
  readonly usageKeys: UsageKeys;
  readonly publishChange: () => Promise<void>;
  readonly now?: () => number;
}

const DAY_MS = 86_400_000;
/** Default usage window, and the longest one a caller may ask for. */
const DEFAULT_USAGE_DAYS = 30;
const MAX_USAGE_DAYS = 366;

export function usagePlansRouter(deps: UsagePlansRouterDeps): Router {
  const r = Router();
  const tenant = DEFAULT_TENANT;
  const now = deps.now ?? Date.now;
  const changed = () => deps.publishChange().catch(() => undefined);

  r.post('/v1/usage-plans', jsonBody, async (req, res) => {
    const body = parseBody(createUsagePlanSchema, req.body);
    const known = new Set((await deps.apis.list(tenant)).map((a) => a.name));
    const unknown = body.apis.filter((name) => !known.has(name));
    if (unknown.length > 0) throw new GantryError('ValidationError', `Unknown API(s): ${unknown.join(', ')}.`, { component: 'admin-api' });
    const plan = await deps.plans.createPlan(tenant, { name: body.name, apis: [...new Set(body.apis)], throttle: body.throttle ?? null, quota: body.quota ?? null });
    await changed();
    res.status(201).json(planView(plan));
  });

  r.get('/v1/usage-plans', async (_req, res) => {
    res.json({ items: (await deps.plans.listPlans(tenant)).map(planView) });
  });

  r.get('/v1/usage-plans/:id', async (req, res) => {
    res.json(planView(await deps.plans.requirePlan(tenant, param(req, 'id'))));
  });

  r.delete('/v1/usage-plans/:id', async (req, res) => {
    await deps.plans.deletePlan(tenant, param(req, 'id'));
    await changed();
    res.status(204).end();
  });

  r.post('/v1/api-keys', jsonBody, async (req, res) => {
    const body = parseBody(createApiKeySchema, req.body);
    const value = body.value ?? generateApiKeyValue();
    const key = await deps.plans.createKey(tenant, { name: body.name, usagePlanId: body.usagePlanId, value });
    await changed();
    res.status(201).json({ ...keyView(key), value });
  });

  r.get('/v1/api-keys', async (_req, res) => {
    res.json({ items: (await deps.plans.listKeys(tenant)).map(keyView) });
  });

  r.get('/v1/api-keys/:id', async (req, res) => {
    res.json(keyView(await deps.plans.requireKey(tenant, param(req, 'id'))));
  });

  r.delete('/v1/api-keys/:id', async (req, res) => {
    await deps.plans.deleteKey(tenant, param(req, 'id'));
    await changed();
    res.status(204).end();
  });

  r.get('/v1/api-keys/:id/usage', async (req, res) => {
    const key = await deps.plans.requireKey(tenant, param(req, 'id'));
    const plan = await deps.plans.requirePlan(tenant, key.usagePlanId);
    const t = now();
    const dates = usageDates(req.query['from'], req.query['to'], t);
    const names = dates.map((d) => deps.usageKeys.day(key.id, d));
    if (plan.quota) names.push(deps.usageKeys.quota(key.id, plan.quota.period, t));
    const values = await deps.counters.read(names);
    const items = dates.map((date, i) => ({ date, used: values[i] ?? 0 }));
    const remaining = plan.quota ? Math.max(0, quotaLimitAt(plan.quota, plan.createdAt.getTime(), t) - (values[dates.length] ?? 0)) : null;
    res.json({ items, remaining, ...(plan.quota ? { periodStart: utcDate(quotaPeriodStartMs(plan.quota.period, t)) } : {}) });
  });

  return r;
}

/** Every UTC date from `from` to `to`, both inclusive; defaults to the last 30 days. */
function usageDates(fromRaw: unknown, toRaw: unknown, nowMs: number): string[] {
  const to = dateParam('to', toRaw) ?? Date.parse(`${utcDate(nowMs)}T00:00:00Z`);
  const from = dateParam('from', fromRaw) ?? to - (DEFAULT_USAGE_DAYS - 1) * DAY_MS;
  const days = Math.round((to - from) / DAY_MS) + 1;
  if (days < 1 || days > MAX_USAGE_DAYS) {
    throw new GantryError('ValidationError', `from must not be after to, and the range is at most ${MAX_USAGE_DAYS} days.`, { component: 'admin-api' });
  }
  return Array.from({ length: days }, (_, i) => utcDate(from + i * DAY_MS));
}

function dateParam(name: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const ms = typeof raw === 'string' && DATE.test(raw) ? Date.parse(`${raw}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || utcDate(ms) !== raw) throw new GantryError('ValidationError', `${name} must be a date YYYY-MM-DD.`, { component: 'admin-api' });
  return ms;
}

function planView(p: UsagePlanRecord): Record<string, unknown> {
  return { id: p.id, name: p.name, apis: p.apis, throttle: p.throttle, quota: p.quota, createdAt: p.createdAt.toISOString() };
}

function keyView(k: ApiKeyRecord): Record<string, unknown> {
  return { id: k.id, name: k.name, usagePlanId: k.usagePlanId, createdAt: k.createdAt.toISOString() };
}
