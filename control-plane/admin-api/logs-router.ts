/** `GET /v1/functions/{name}/logs` (api.md, Observing): a function's own output. */
import { Router } from 'express';
import { GantryError } from '../../common/errors.js';
import { DEFAULT_TENANT } from '../functions/function-types.js';
import type { LogStore } from '../logs/log-store.js';
import type { FunctionStore } from '../functions/function-store.js';
import { param } from './express-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function logsRouter(deps: { store: FunctionStore; logs: LogStore }): Router {
  const r = Router();
  r.get('/v1/functions/:name/logs', async (req, res) => {
    const name = param(req, 'name');
    await deps.store.require(DEFAULT_TENANT, name);
    const invocationId = typeof req.query.invocationId === 'string' ? req.query.invocationId : undefined;
    if (invocationId !== undefined && !UUID.test(invocationId)) {
      throw new GantryError('ValidationError', 'invocationId must be an invocation id (a UUID).', { component: 'admin-api' });
    }
    const limit = req.query.limit === undefined ? 1000 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new GantryError('ValidationError', 'limit must be an integer from 1 to 10000.', { component: 'admin-api' });
    }
    const lines = await deps.logs.lines(DEFAULT_TENANT, name, invocationId, limit);
    res.json({ lines: lines.map((l) => ({ invocationId: l.invocationId, time: l.time.toISOString(), stream: l.stream, message: l.message, version: l.executedVersion ?? '$LATEST' })) });
  });
  return r;
}
