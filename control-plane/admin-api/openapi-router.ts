/**
 * `GET /v1/openapi.json`: the admin API's OpenAPI 3.1 description, without a token (it is the
 * public contract and names no tenant's data). Built once, on the first request.
 */
import { Router } from 'express';
import { buildOpenApiDocument } from './openapi-document.js';

export function openApiRouter(): Router {
  const r = Router();
  let body: string | undefined;
  r.get('/v1/openapi.json', (_req, res) => {
    body ??= JSON.stringify(buildOpenApiDocument({ version: 'v1' }));
    res.type('application/json').send(body);
  });
  return r;
}
