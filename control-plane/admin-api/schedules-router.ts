/** Admin API for schedules (api.md): create, list and delete a function's schedules. */
import { Router } from 'express';
import { z } from 'zod';
import { boundedJson, parseBody } from './validation.js';
import type { AsyncService } from '../async/async-service.js';
import { DEFAULT_TENANT } from '../functions/function-types.js';
import { QUALIFIER } from '../functions/lambda-contract.js';
import { uuidParam } from './async-router.js';
import { jsonBody, param } from './express-helpers.js';

/** The fixed input is delivered as the event; the limit is the async payload limit's order of size. */
const MAX_INPUT_BYTES = 256 * 1024;

export const createScheduleSchema = z
  .object({
    expression: z.string().min(1).max(256),
    timezone: z.string().min(1).max(64).default('UTC'),
    input: boundedJson(MAX_INPUT_BYTES).optional(),
    qualifier: z.string().regex(QUALIFIER, 'must be $LATEST, a version number or an alias name').optional(),
  })
  .strict();

export function schedulesRouter(deps: { service: AsyncService }): Router {
  const r = Router();
  const tenant = DEFAULT_TENANT;

  r.post('/v1/functions/:name/schedules', jsonBody, async (req, res) => {
    const body = parseBody(createScheduleSchema, req.body);
    const created = await deps.service.createSchedule(tenant, param(req, 'name'), {
      expression: body.expression,
      timezone: body.timezone,
      input: body.input ?? null,
      ...(body.qualifier === undefined ? {} : { qualifier: body.qualifier }),
    });
    res.status(201).json(created);
  });

  r.get('/v1/functions/:name/schedules', async (req, res) => {
    res.json({ schedules: await deps.service.listSchedules(tenant, param(req, 'name')) });
  });

  r.delete('/v1/functions/:name/schedules/:id', async (req, res) => {
    await deps.service.deleteSchedule(tenant, param(req, 'name'), uuidParam(param(req, 'id'), 'schedule id'));
    res.status(204).end();
  });

  return r;
}
