/** Admin API: functions and runtimes (api.md, Functions). */
import { Router } from 'express';
import { GantryError } from '../../common/errors.js';
import type { DeployedFunction, FunctionService } from '../functions/function-service.js';
import { DEFAULT_TENANT, toFunctionConfig, type FunctionId, type FunctionRecord } from '../functions/function-types.js';
import type { RuntimeCatalog } from '../runtimes/runtime-catalog.js';
import type { FunctionStore } from '../functions/function-store.js';
import { createFunctionSchema, parseBody, patchFunctionSchema } from './validation.js';
import { jsonBody, param, zipBody } from './express-helpers.js';

export interface FunctionsRouterDeps {
  readonly service: FunctionService;
  readonly store: FunctionStore;
  readonly catalog: RuntimeCatalog;
  /** Initialised provisioned environments on this node (FunctionConfig.provisionedConcurrencyReady). */
  readonly provisionedReady: (functionId: FunctionId) => number;
}

export function functionsRouter(deps: FunctionsRouterDeps): Router {
  const r = Router();
  const tenant = DEFAULT_TENANT;
  const view = (f: FunctionRecord) => toFunctionConfig(f, deps.provisionedReady(f.functionId));
  // What the deploy-time checks found without refusing (a missing handler module, as on Lambda).
  const deployed = (f: DeployedFunction) => (f.warnings.length === 0 ? view(f) : { ...view(f), warnings: f.warnings });

  r.get('/v1/runtimes', async (_req, res) => {
    res.json({ runtimes: await deps.catalog.available() });
  });

  r.post('/v1/functions', jsonBody, async (req, res) => {
    const body = parseBody(createFunctionSchema, req.body);
    const { code, ...config } = body;
    const record = await deps.service.create(tenant, { ...dropUndefined(config), zip: decodeBase64Zip(code.zipBase64) });
    res.status(201).json(deployed(record));
  });

  r.get('/v1/functions', async (_req, res) => {
    const list = await deps.store.list(tenant);
    res.json({ functions: list.map(view) });
  });

  r.get('/v1/functions/:name', async (req, res) => {
    res.json(view(await deps.store.require(tenant, param(req, 'name'))));
  });

  r.put('/v1/functions/:name/code', zipBody, async (req, res) => {
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      throw new GantryError('ValidationError', 'The request body must be the zip archive (Content-Type: application/zip).', { component: 'admin-api' });
    }
    res.json(deployed(await deps.service.replaceCode(tenant, param(req, 'name'), req.body)));
  });

  r.patch('/v1/functions/:name', jsonBody, async (req, res) => {
    const patch = parseBody(patchFunctionSchema, req.body);
    res.json(deployed(await deps.service.patch(tenant, param(req, 'name'), dropUndefined(patch))));
  });

  r.delete('/v1/functions/:name', async (req, res) => {
    await deps.service.delete(tenant, param(req, 'name'));
    res.status(204).end();
  });

  return r;
}

function decodeBase64Zip(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new GantryError('ValidationError', 'code.zipBase64 is not valid base64.', { component: 'admin-api' });
  }
  return Buffer.from(compact, 'base64');
}

/** exactOptionalPropertyTypes: absent and undefined are different; the service wants absent. */
function dropUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
