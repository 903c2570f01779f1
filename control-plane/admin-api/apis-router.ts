/** Admin API: APIs and routes, which the gateway serves (api.md, APIs and routes). */
import { Router } from 'express';
import { GantryError } from '../../common/errors.js';
import { httpRouteKeyProblem, websocketRouteKeyProblem } from '../../common/route-key.js';
import { DEFAULT_TENANT, type TenantId } from '../functions/function-types.js';
import { splitQualifiedName } from '../functions/lambda-contract.js';
import type { ApiRecord, ApiStore, RouteRecord } from '../apis/api-store.js';
import type { FunctionStore } from '../functions/function-store.js';
import { createRouteSchema } from './gateway-options-schemas.js';
import { httpRouteProblem, websocketRoute, websocketRouteProblem } from './websocket-route-check.js';
import { createApiSchema, parseBody, patchApiSchema } from './validation.js';
import { jsonBody, param } from './express-helpers.js';

export interface ApisRouterDeps {
  readonly apis: ApiStore;
  readonly functions: FunctionStore;
  /** Checks that a route's `fn:qualifier` names a version or alias that exists. */
  readonly resolve: (tenant: TenantId, name: string, qualifier: string) => Promise<unknown>;
  readonly publicUrl: string;
  readonly publishChange: () => Promise<void>;
}

export function apisRouter(deps: ApisRouterDeps): Router {
  const r = Router();
  const tenant = DEFAULT_TENANT;
  const view = (a: ApiRecord) => toApiView(a, deps.publicUrl);
  const changed = () => deps.publishChange().catch(() => undefined);

  r.post('/v1/apis', jsonBody, async (req, res) => {
    const body = parseBody(createApiSchema, req.body);
    const api = await deps.apis.create(tenant, body).catch(conflictAs(`An API named "${body.name}" already exists.`));
    await changed();
    res.status(201).json(view(api));
  });

  r.get('/v1/apis', async (_req, res) => {
    res.json({ apis: (await deps.apis.list(tenant)).map(view) });
  });

  r.get('/v1/apis/:api', async (req, res) => {
    res.json(view(await deps.apis.require(tenant, param(req, 'api'))));
  });

  r.patch('/v1/apis/:api', jsonBody, async (req, res) => {
    const api = await deps.apis.patch(tenant, param(req, 'api'), parseBody(patchApiSchema, req.body));
    await changed();
    res.json(view(api));
  });

  r.delete('/v1/apis/:api', async (req, res) => {
    await deps.apis.delete(tenant, param(req, 'api'));
    await changed();
    res.status(204).end();
  });

  r.get('/v1/apis/:api/routes', async (req, res) => {
    const api = await deps.apis.require(tenant, param(req, 'api'));
    res.json({ routes: (await deps.apis.listRoutes(api.id)).map(toRouteView) });
  });

  r.post('/v1/apis/:api/routes', jsonBody, async (req, res) => {
    const api = await deps.apis.require(tenant, param(req, 'api'));
    const parsed = parseBody(createRouteSchema, req.body);
    const body = api.protocol === 'websocket' ? websocketRoute(parsed) : parsed;
    const problem = api.protocol === 'http' ? httpRouteKeyProblem(body.routeKey) : websocketRouteKeyProblem(body.routeKey);
    if (problem !== undefined) throw new GantryError('ValidationError', `Invalid routeKey: ${problem}.`, { component: 'admin-api' });
    const optionsProblem = api.protocol === 'websocket' ? websocketRouteProblem(body) : httpRouteProblem(body);
    if (optionsProblem !== undefined) throw new GantryError('ValidationError', `Invalid route: ${optionsProblem}.`, { component: 'admin-api' });
    for (const target of [body.function, ...(body.authorizer?.type === 'function' ? [body.authorizer.function] : [])]) {
      const { name, qualifier } = splitQualifiedName(target);
      if ((await deps.functions.get(tenant, name)) === undefined) {
        throw new GantryError('ValidationError', `Function "${name}" does not exist.`, { component: 'admin-api' });
      }
      if (qualifier !== undefined) {
        await deps.resolve(tenant, name, qualifier).catch((e: unknown) => {
          throw e instanceof GantryError && e.type === 'ResourceNotFound'
            ? new GantryError('ValidationError', `Function "${name}" has no version or alias "${qualifier}".`, { component: 'admin-api' })
            : e;
        });
      }
    }
    const { routeKey, function: functionName, payloadFormatVersion, ...options } = body;
    const route = await deps.apis.createRoute(tenant, api.id, { routeKey, functionName, payloadFormatVersion, options: definedOnly(options) });
    await changed();
    res.status(201).json(toRouteView(route));
  });

  r.delete('/v1/apis/:api/routes/:routeId', async (req, res) => {
    const api = await deps.apis.require(tenant, param(req, 'api'));
    await deps.apis.deleteRoute(api.id, param(req, 'routeId'));
    await changed();
    res.status(204).end();
  });

  return r;
}

function toApiView(a: ApiRecord, publicUrl: string): Record<string, unknown> {
  const base = new URL(publicUrl);
  if (a.protocol === 'websocket') base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    id: a.id,
    name: a.name,
    protocol: a.protocol,
    endpoint: `${base.origin}/${a.name}`,
    cors: a.cors,
    hosts: a.hosts,
    ...(a.protocol === 'websocket' ? { routeSelectionExpression: a.routeSelectionExpression ?? '$request.body.action' } : {}),
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

function toRouteView(r: RouteRecord): Record<string, unknown> {
  return { id: r.id, routeKey: r.routeKey, function: r.functionName, payloadFormatVersion: r.payloadFormatVersion, ...r.options };
}

function conflictAs(message: string): (e: unknown) => never {
  return (e) => {
    if (e instanceof GantryError && e.type === 'ResourceConflict' && !e.message.includes('host')) {
      throw new GantryError('ResourceConflict', message, { component: 'store' });
    }
    throw e;
  };
}

function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
