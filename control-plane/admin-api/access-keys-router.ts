/**
 * Admin API: SigV4 access keys (issue 15 §3). The secret appears in the create response only;
 * a DELETE has taken effect on this node when it returns and on every other node once the
 * Redis message arrives.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { AccessKeyRecord } from '../access-keys/access-key-store.js';
import type { AccessKeyService } from '../access-keys/access-key-service.js';
import { DEFAULT_TENANT, type TenantId } from '../functions/function-types.js';
import { jsonBody, param } from './express-helpers.js';
import { parseBody } from './validation.js';

export const createAccessKeySchema = z
  .object({
    tenant: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9_-]').optional(),
    description: z.string().max(256).optional(),
  })
  .strict();

export function accessKeysRouter(deps: { service: AccessKeyService }): Router {
  const r = Router();

  r.post('/v1/access-keys', jsonBody, async (req, res) => {
    const body = parseBody(createAccessKeySchema, req.body ?? {});
    const key = await deps.service.create((body.tenant ?? DEFAULT_TENANT) as TenantId, body.description ?? '');
    res.status(201).json({ ...view(key), secretAccessKey: key.secretAccessKey });
  });

  r.get('/v1/access-keys', async (_req, res) => {
    res.json({ accessKeys: (await deps.service.list()).map(view) });
  });

  r.delete('/v1/access-keys/:accessKeyId', async (req, res) => {
    await deps.service.revoke(param(req, 'accessKeyId'));
    res.status(204).end();
  });

  return r;
}

function view(k: AccessKeyRecord) {
  return { accessKeyId: k.accessKeyId, tenant: k.tenant, description: k.description, createdAt: k.createdAt.toISOString() };
}
