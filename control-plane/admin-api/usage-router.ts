/**
 * Admin API, Observing (api.md): `GET /v1/usage`, `GET /v1/usage/invoice`,
 * `GET /v1/functions/{name}/invocations`, and the tenant's prices (`GET/PUT/DELETE /v1/prices`).
 * Query strings are validated strictly: anything malformed is a 400 ValidationError naming it.
 */
import { quotaPeriodStartMs } from '../../common/usage-keys.js';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { GantryError } from '../../common/errors.js';
import { parseBody } from './validation.js';
import { DEFAULT_TENANT } from '../functions/function-types.js';
import { Decimal } from '../metering/pricing/decimal.js';
import { decodeCursor } from '../metering/read/invocation-cursor.js';
import type { PriceStore } from '../metering/pricing/price-store.js';
import { buildInvoice, exactCost, gbSeconds } from '../metering/pricing/pricing.js';
import type { GroupBy, UsageStore } from '../metering/read/usage-store.js';
import type { FunctionStore } from '../functions/function-store.js';
import { jsonBody, param } from './express-helpers.js';

export interface UsageRouterDeps {
  readonly usage: UsageStore;
  readonly prices: PriceStore;
  readonly functions: FunctionStore;
  readonly defaultCurrency: string;
  readonly now?: () => number;
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

const price = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = typeof v === 'number' ? String(v) : v.trim();
  if (!Decimal.isValid(text)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a non-negative decimal such as "0.0000166667" (a string keeps every digit)' });
    return z.NEVER;
  }
  return text;
});
export const putPricesSchema = z
  .object({
    pricePerGbSecond: price,
    pricePerMillionRequests: price,
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "USD"').optional(),
  })
  .strict();

export function usageRouter(deps: UsageRouterDeps): Router {
  const r = Router();
  const tenant = DEFAULT_TENANT;
  const now = deps.now ?? Date.now;

  r.get('/v1/usage', async (req, res) => {
    const q = queryOf(req, ['from', 'to', 'groupBy']);
    const groupBy = (q.groupBy ?? 'function') as GroupBy;
    if (groupBy !== 'function' && groupBy !== 'day') throw invalid('groupBy must be "function" or "day".');
    const nowMs = now();
    const from = q.from === undefined ? new Date(quotaPeriodStartMs('MONTH', nowMs)) : instant('from', q.from);
    const to = q.to === undefined ? new Date(nowMs) : instant('to', q.to);
    if (to.getTime() < from.getTime()) throw invalid('to must not be before from.');
    const [rows, prices] = await Promise.all([deps.usage.usage(tenant, from, to, groupBy), deps.prices.prices(tenant)]);
    res.json({
      rows: rows.map((u) => ({
        key: u.key,
        requests: Number(u.requests),
        billedMs: Number(u.billedMs),
        gbSeconds: gbSeconds(u.mbMs).toString(),
        cost: exactCost(u, prices).toString(),
        rejected: u.rejected,
      })),
      currency: prices.currency,
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy,
    });
  });

  r.get('/v1/usage/invoice', async (req, res) => {
    const q = queryOf(req, ['month']);
    const m = MONTH.exec(q.month ?? '');
    if (!m) throw invalid('month must be given as YYYY-MM.');
    const year = Number(m[1]);
    const month = Number(m[2]);
    const from = new Date(Date.UTC(year, month - 1, 1));
    const to = new Date(Date.UTC(year, month, 1));
    const [rows, prices] = await Promise.all([deps.usage.byFunction(tenant, from, to), deps.prices.prices(tenant)]);
    res.json(buildInvoice(q.month as string, rows, prices));
  });

  r.get('/v1/functions/:name/invocations', async (req, res) => {
    const name = param(req, 'name');
    const q = queryOf(req, ['limit', 'cursor']);
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!/^\d{1,4}$/.test(q.limit ?? '50') || !Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit must be an integer from 1 to 1000.');
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (q.cursor !== undefined && cursor === undefined) throw invalid('cursor is not one this endpoint returned (pass nextCursor back unchanged).');
    await deps.functions.require(tenant, name);
    res.json(await deps.usage.invocations(tenant, name, limit, cursor));
  });

  r.get('/v1/prices', async (_req, res) => {
    res.json(await deps.prices.view(tenant));
  });

  r.put('/v1/prices', jsonBody, async (req, res) => {
    const body = parseBody(putPricesSchema, req.body);
    const view = await deps.prices.put(tenant, {
      pricePerGbSecond: body.pricePerGbSecond,
      pricePerMillionRequests: body.pricePerMillionRequests,
      currency: body.currency ?? deps.defaultCurrency,
    });
    res.json(view);
  });

  r.delete('/v1/prices', async (_req, res) => {
    await deps.prices.reset(tenant);
    res.status(204).end();
  });

  return r;
}

/** The named query parameters, each at most once; unknown parameters are refused. */
function queryOf(req: Request, allowed: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const params = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
  for (const key of new Set(params.keys())) {
    if (!allowed.includes(key)) throw invalid(`Unknown query parameter "${key}"; this endpoint takes ${allowed.join(', ')}.`);
    const values = params.getAll(key);
    if (values.length > 1) throw invalid(`Query parameter "${key}" is given more than once.`);
    out[key] = values[0];
  }
  return out;
}

function instant(name: string, text: string): Date {
  const d = new Date(text);
  if (!ISO.test(text) || Number.isNaN(d.getTime())) throw invalid(`${name} must be an ISO 8601 date or date-time (e.g. 2026-01-01 or 2026-01-01T00:00:00Z).`);
  return d;
}

function invalid(message: string): GantryError {
  return new GantryError('ValidationError', message, { component: 'admin-api' });
}
