// The OpenAPI document describes every route the admin app mounts (found by walking Express's
// router stack, so a route added without an entry in admin-routes.ts fails here), is a valid
// OpenAPI 3.1 document, and carries the very schemas the routers validate with.
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import type express from 'express';
import pg from 'pg';
import { Registry } from 'prom-client';
import t from 'tap';
import { createLogger } from '../../../../common/logger.js';
import { createAdminApp, type AdminApiDeps } from '../../../../control-plane/admin-api/admin-app.js';
import { ADMIN_ROUTES, expressPath } from '../../../../control-plane/admin-api/admin-routes.js';
import { buildOpenApiDocument } from '../../../../control-plane/admin-api/openapi-document.js';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: unknown;
  slash?: boolean;
}

/** `GET /v1/functions/:name`, for every route of the app, nested routers included. */
function mountedRoutes(app: express.Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route !== undefined) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) for (const m of Object.keys(layer.route.methods)) if (m !== '_all') out.push(`${m.toUpperCase()} ${prefix}${p}`);
      } else if (Array.isArray(layer.handle.stack)) {
        const mount = layer.slash === true ? '' : String(layer.rawPath);
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

/** Nothing below is called while routes are mounted; the pool is real but never connects here. */
function inertApp(): { app: express.Express; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: 'postgres://127.0.0.1:1/none' });
  const unused = new Proxy({}, { get: () => () => { throw new Error('not used by this test'); } });
  const deps = {
    auth: { authenticate: () => undefined },
    readiness: [],
    readinessFacts: () => ({}),
    registry: new Registry(),
    pool,
    redis: unused,
    keys: { key: (s: string) => s },
    functionService: unused,
    functionStore: unused,
    apiStore: unused,
    catalog: unused,
    logStore: unused,
    asyncService: unused,
    provisionedReady: () => 0,
    publishChange: async () => undefined,
    logger: createLogger({ level: 'silent', name: 'openapi-test' }),
  } as unknown as AdminApiDeps;
  const app = createAdminApp(deps, { GANTRY_PRICE_PER_GB_SECOND: '0.0000166667', GANTRY_PRICE_PER_MILLION_REQUESTS: '0.2', GANTRY_PRICE_CURRENCY: 'USD', GANTRY_PUBLIC_URL: 'http://127.0.0.1:8080' } as never);
  return { app, pool };
}

const doc = buildOpenApiDocument({ version: 'v1' }) as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };

t.test('every route mounted on the admin app is in the document', async (t) => {
  const { app, pool } = inertApp();
  t.teardown(() => pool.end());
  const mounted = mountedRoutes(app);
  t.ok(mounted.length >= 40, `walked the router stack (${mounted.length} routes)`);
  t.ok(mounted.includes('POST /v1/functions'), 'found a route inside a nested router');
  const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${expressPath(p)}`)));
  const missing = mounted.filter((r) => !documented.has(r));
  t.same(missing, [], 'routes mounted but not in admin-routes.ts');
  // And the other way round: the document names nothing that is not served (the invoke endpoint
  // is answered before Express, so it is the one exception).
  const served = new Set(mounted);
  const extra = ADMIN_ROUTES.filter((r) => r.outsideExpress !== true).map((r) => `${r.method.toUpperCase()} ${expressPath(r.path)}`).filter((r) => !served.has(r));
  t.same(extra, [], 'documented routes that nothing serves');
});

t.test('a route that is not registered is caught by the walk', async (t) => {
  const { app, pool } = inertApp();
  t.teardown(() => pool.end());
  (app as unknown as { get: (p: string, h: express.RequestHandler) => void }).get('/v1/not-registered', (_req, res) => {
    res.end();
  });
  t.ok(mountedRoutes(app).includes('GET /v1/not-registered'));
  t.notOk(Object.keys(doc.paths).includes('/v1/not-registered'));
});

t.test('the document is valid OpenAPI 3.1', async (t) => {
  t.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(structuredClone(doc) as Record<string, unknown>);
  t.same(result.errors ?? [], [], 'no schema errors');
  t.equal(result.valid, true);
  const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o['operationId']));
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique');
});

t.test('request bodies are the routers’ zod schemas, as they arrive', async (t) => {
  const create = doc.paths['/v1/functions']?.['post'] as { requestBody: { content: Record<string, { schema: { properties: Record<string, { minimum?: number; maximum?: number }>; required: string[] } }> } };
  const schema = create.requestBody.content['application/json']!.schema;
  t.same([...schema.required].sort(), ['code', 'handler', 'name', 'runtime'], 'fields with defaults are optional on input');
  t.equal(schema.properties['memoryMb']?.minimum, 64);
  t.equal(schema.properties['memoryMb']?.maximum, 10240);
  const code = doc.paths['/v1/functions/{name}/code']?.['put'] as { requestBody: { content: Record<string, unknown> }; parameters: { name: string; in: string }[] };
  t.ok(code.requestBody.content['application/zip'], 'the raw zip upload');
  t.same(code.parameters.map((p) => [p.in, p.name]), [['path', 'name']]);
  const usage = doc.paths['/v1/usage']?.['get'] as { parameters: { name: string; in: string }[] };
  t.same(usage.parameters.map((p) => p.name).sort(), ['from', 'groupBy', 'to']);
  const health = doc.paths['/healthz']?.['get'] as { security: unknown[] };
  t.same(health.security, [], 'ops endpoints need no token');
});

t.test('GET /v1/openapi.json serves it without a token', async (t) => {
  const { app, pool } = inertApp();
  t.teardown(() => pool.end());
  const server = app.listen(0, '127.0.0.1');
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/v1/openapi.json`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /application\/json/);
  t.same(await res.json(), JSON.parse(JSON.stringify(doc)));
});
