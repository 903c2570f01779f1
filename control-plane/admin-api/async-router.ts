/**
 * Admin API for async invocations (api.md, Asynchronous invocation and schedules): per-function
 * async config, the dead-letter list and its replay, and `GET /v1/invocations/{id}` for async and
 * synchronous invocations alike.
 */
import { Router } from 'express';
import { GantryError } from '../../common/errors.js';
import { parseBody } from './validation.js';
import { asyncConfigSchema, toWire } from '../async/async-config.js';
import { isUuid } from '../async/async-job.js';
import type { AsyncService } from '../async/async-service.js';
import { DEFAULT_TENANT } from '../functions/function-types.js';
import { jsonBody, param } from './express-helpers.js';

export function asyncRouter(deps: { service: AsyncService }): Router {
  const r = Router();
  const tenant = DEFAULT_TENANT;
  const svc = deps.service;

  r.put('/v1/functions/:name/async-config', jsonBody, async (req, res) => {
    const config = parseBody(asyncConfigSchema, req.body);
    res.json(toWire(await svc.putConfig(tenant, param(req, 'name'), config)));
  });

  r.get('/v1/functions/:name/async-config', async (req, res) => {
    res.json(toWire(await svc.getConfig(tenant, param(req, 'name'))));
  });

  r.get('/v1/invocations/:id', async (req, res) => {
    const id = uuidParam(param(req, 'id'), 'invocation id');
    const view = await svc.status(id);
    if (view === undefined) throw new GantryError('ResourceNotFound', `Invocation not found: ${id}`, { component: 'admin-api' });
    res.json(view);
  });

  r.get('/v1/functions/:name/dead-letters', async (req, res) => {
    const limit = req.query.limit === undefined ? 1000 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new GantryError('ValidationError', 'limit must be an integer from 1 to 10000.', { component: 'admin-api' });
    }
    res.json({ items: await svc.deadLetters(tenant, param(req, 'name'), limit) });
  });

  r.post('/v1/functions/:name/dead-letters/:id/replay', async (req, res) => {
    const id = uuidParam(param(req, 'id'), 'dead letter id');
    res.status(202).json({ invocationId: await svc.replay(tenant, param(req, 'name'), id) });
  });

  return r;
}

/** Ids are UUIDs; anything else cannot exist (and must not reach a uuid column). */
export function uuidParam(value: string, what: string): string {
  if (!isUuid(value)) throw new GantryError('ResourceNotFound', `No ${what} ${JSON.stringify(value.slice(0, 64))}: ids are UUIDs.`, { component: 'admin-api' });
  return value.toLowerCase();
}
