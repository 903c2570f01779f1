/** Admin API: published versions and aliases of a function (api.md, Versions and aliases). */
import { Router } from 'express';
import { GantryError } from '../../common/errors.js';
import type { FunctionService } from '../functions/function-service.js';
import { DEFAULT_TENANT, LATEST, toAliasView, toFunctionConfig, toVersionView } from '../functions/function-types.js';
import { createAliasSchema, parseBody, patchAliasSchema, publishVersionSchema } from './validation.js';
import { jsonBody, param } from './express-helpers.js';

export function versionsRouter(deps: { service: FunctionService }): Router {
  const r = Router();
  const tenant = DEFAULT_TENANT;

  r.post('/v1/functions/:name/versions', jsonBody, async (req, res) => {
    const body = parseBody(publishVersionSchema, req.body ?? {});
    const name = param(req, 'name');
    const v = await deps.service.publishVersion(tenant, name, {
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.codeSha256 === undefined ? {} : { codeSha256: body.codeSha256 }),
      ...(body.revisionId === undefined ? {} : { expectedRevisionId: body.revisionId }),
    });
    const { latest } = await deps.service.listVersions(tenant, name);
    res.status(201).json(toVersionView(v, latest));
  });

  r.get('/v1/functions/:name/versions', async (req, res) => {
    const { latest, versions } = await deps.service.listVersions(tenant, param(req, 'name'));
    // $LATEST first, as Lambda lists it.
    res.json({ versions: [{ ...toFunctionConfig(latest), version: LATEST }, ...versions.map((v) => toVersionView(v, latest))] });
  });

  r.get('/v1/functions/:name/versions/:version', async (req, res) => {
    const name = param(req, 'name');
    const text = param(req, 'version');
    if (text === LATEST) {
      const { latest } = await deps.service.listVersions(tenant, name);
      res.json({ ...toFunctionConfig(latest), version: LATEST });
      return;
    }
    const v = await deps.service.getVersion(tenant, name, versionNumber(text));
    const { latest } = await deps.service.listVersions(tenant, name);
    res.json(toVersionView(v, latest));
  });

  r.delete('/v1/functions/:name/versions/:version', async (req, res) => {
    const text = param(req, 'version');
    if (text === LATEST) throw new GantryError('ValidationError', '$LATEST cannot be deleted on its own: delete the function.', { component: 'admin-api' });
    await deps.service.deleteVersion(tenant, param(req, 'name'), versionNumber(text));
    res.status(204).end();
  });

  r.post('/v1/functions/:name/aliases', jsonBody, async (req, res) => {
    const body = parseBody(createAliasSchema, req.body);
    const alias = await deps.service.createAlias(tenant, param(req, 'name'), {
      name: body.name,
      functionVersion: body.functionVersion,
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.routingConfig == null ? {} : { additionalVersionWeights: body.routingConfig.additionalVersionWeights }),
    });
    res.status(201).json(toAliasView(alias));
  });

  r.get('/v1/functions/:name/aliases', async (req, res) => {
    const list = await deps.service.listAliases(tenant, param(req, 'name'));
    res.json({ aliases: list.map(toAliasView) });
  });

  r.get('/v1/functions/:name/aliases/:alias', async (req, res) => {
    res.json(toAliasView(await deps.service.getAlias(tenant, param(req, 'name'), param(req, 'alias'))));
  });

  r.patch('/v1/functions/:name/aliases/:alias', jsonBody, async (req, res) => {
    const body = parseBody(patchAliasSchema, req.body);
    const alias = await deps.service.updateAlias(tenant, param(req, 'name'), param(req, 'alias'), {
      ...(body.functionVersion === undefined ? {} : { functionVersion: body.functionVersion }),
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.routingConfig === undefined ? {} : { additionalVersionWeights: body.routingConfig === null ? null : body.routingConfig.additionalVersionWeights }),
      ...(body.revisionId === undefined ? {} : { expectedRevisionId: body.revisionId }),
    });
    res.json(toAliasView(alias));
  });

  r.delete('/v1/functions/:name/aliases/:alias', async (req, res) => {
    await deps.service.deleteAlias(tenant, param(req, 'name'), param(req, 'alias'));
    res.status(204).end();
  });

  return r;
}

function versionNumber(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) {
    throw new GantryError('ValidationError', `Version "${text}" is not $LATEST or a published version number.`, { component: 'admin-api' });
  }
  return Number(text);
}
