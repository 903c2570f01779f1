/**
 * The OpenAPI 3.1 description of the admin API, generated from `ADMIN_ROUTES` and the zod schemas
 * the routers validate with, so the document cannot drift from what is enforced. Bodies are
 * described as they arrive (zod's input side: defaults make a field optional).
 */
import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ERROR_STATUS } from '../../common/errors.js';
import { ADMIN_ROUTES, type AdminRoute } from './admin-routes.js';

// The generator annotates parameters through `.openapi()`; this adds that method to zod's types
// (nothing else changes in how the routers' schemas parse).
extendZodWithOpenApi(z);

/** api.md's error shape; as a plain JSON Schema component. */
const ERROR_TYPES = Object.keys(ERROR_STATUS);
const errorComponent = {
  type: 'object' as const,
  description: "api.md's error shape",
  required: ['error'],
  properties: {
    error: {
      type: 'object' as const,
      required: ['type', 'message'],
      properties: { type: { type: 'string' as const, enum: ERROR_TYPES }, message: { type: 'string' as const } },
    },
  },
};

export interface OpenApiInfo {
  readonly version: string;
}

export function buildOpenApiDocument(info: OpenApiInfo, routes: readonly AdminRoute[] = ADMIN_ROUTES): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'The admin token (GANTRY_ADMIN_TOKEN)' });
  registry.registerComponent('schemas', 'Error', errorComponent);
  const error = { $ref: '#/components/schemas/Error' };
  for (const route of routes) registry.registerPath(toRouteConfig(route, bearer.name, error));
  const generator = new OpenApiGeneratorV31(registry.definitions);
  const doc = generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Gantry admin API',
      version: info.version,
      description: 'Functions, invocation, observing, asynchronous invocation, APIs and routes, usage plans and keys. Errors are {"error": {"type", "message"}}.',
    },
    security: [{ [bearer.name]: [] }],
  });
  return doc as unknown as Record<string, unknown>;
}

function toRouteConfig(route: AdminRoute, bearer: string, error: { $ref: string }): RouteConfig {
  const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  const params = names.length === 0 ? undefined : z.object(Object.fromEntries(names.map((n) => [n, z.string()])));
  const responses: RouteConfig['responses'] = {};
  for (const [status, description] of Object.entries(route.responses)) {
    const code = Number(status);
    responses[status] = code >= 400 ? { description, content: { 'application/json': { schema: error } } } : { description };
  }
  if (!route.public) {
    responses['400'] ??= { description: 'ValidationError', content: { 'application/json': { schema: error } } };
    responses['401'] ??= { description: 'Unauthorized: no or a wrong bearer token', content: { 'application/json': { schema: error } } };
  }
  const config: RouteConfig = {
    method: route.method,
    path: route.path,
    tags: [route.tag],
    summary: route.summary,
    operationId: operationId(route),
    responses,
    ...(route.public ? { security: [] } : { security: [{ [bearer]: [] }] }),
  };
  const request: NonNullable<RouteConfig['request']> = {};
  if (params !== undefined) request.params = params;
  if (route.query !== undefined) request.query = route.query;
  if (route.body === 'zip') {
    request.body = { required: true, content: { 'application/zip': { schema: { type: 'string', contentMediaType: 'application/zip' } } } };
  } else if (route.body === 'any-json') {
    request.body = { required: false, content: { 'application/json': { schema: {} } } };
  } else if (route.body !== undefined) {
    request.body = { required: true, content: { 'application/json': { schema: route.body } } };
  }
  if (Object.keys(request).length > 0) config.request = request;
  return config;
}

/** `post /v1/functions/{name}/dead-letters/{id}/replay` → `postFunctionsByNameDeadLettersByIdReplay`. */
function operationId(route: AdminRoute): string {
  const words = route.path
    .split('/')
    .filter((s) => s !== '' && s !== 'v1')
    .map((s) => (s.startsWith('{') ? `by-${s.slice(1, -1)}` : s))
    .join('-')
    .split(/[-_.]/)
    .filter((w) => w !== '');
  return route.method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}
