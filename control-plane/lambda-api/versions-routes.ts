/**
 * PublishVersion, ListVersionsByFunction and the alias operations (compat.md §2.4) on the
 * function service's versions and aliases: numbers from 1, never reused; an alias routes to one
 * published version, optionally with one more by weight (`RoutingConfig.AdditionalVersionWeights`).
 */
import { Router } from 'express';
import type { AliasRecord } from '../functions/function-types.js';
import { ALIAS_NAME, functionArn } from '../functions/lambda-contract.js';
import { functionConfiguration } from './function-configuration.js';
import { PAGE_MAX } from './functions-routes.js';
import { asNotFound, pathParam, publishedRecord, queryParam, refOf, requireFunction, tenantOf, type LambdaApiDeps } from './lambda-context.js';
import { LambdaApiError } from './lambda-errors.js';
import { asBody, Constraints, obj, str, type Body } from './lambda-input.js';

const P = '/2015-03-31/functions/:FunctionName';
const VERSION = /^(\$LATEST|[0-9]+)$/;

export function versionsRoutes(d: LambdaApiDeps): Router {
  const r = Router();

  r.post(`${P}/versions`, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = unqualified(refOf(req));
    const latest = await requireFunction(d, tenant, ref);
    const b = asBody(req.body);
    const description = str(b, 'Description');
    const codeSha256 = str(b, 'CodeSha256');
    const revision = str(b, 'RevisionId');
    new Constraints().length(description, 'description', 0, 256).check();
    const v = await d.service.publishVersion(tenant, ref.name, {
      ...(description === undefined ? {} : { description }),
      ...(codeSha256 === undefined ? {} : { codeSha256 }),
      ...(revision === undefined ? {} : { expectedRevisionId: revision }),
    });
    res.status(201).json(functionConfiguration(d.region, publishedRecord(latest, v), await d.attributes.get(latest.functionId), String(v.version)));
  });

  r.get(`${P}/versions`, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = unqualified(refOf(req));
    const { latest, versions } = await d.service.listVersions(tenant, ref.name).catch(asNotFound(d, ref));
    const attrs = await d.attributes.get(latest.functionId);
    const all = [functionConfiguration(d.region, latest, attrs), ...versions.map((v) => functionConfiguration(d.region, publishedRecord(latest, v), attrs, String(v.version)))];
    res.json(page(all, req.query, 'Versions'));
  });

  r.post(`${P}/aliases`, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = unqualified(refOf(req));
    await requireFunction(d, tenant, ref);
    const b = asBody(req.body);
    const name = str(b, 'Name');
    const version = str(b, 'FunctionVersion');
    const description = str(b, 'Description');
    new Constraints()
      .required(name, 'name').length(name, 'name', 1, 128).pattern(name, 'name', ALIAS_NAME, '(?!^[0-9]+$)([a-zA-Z0-9-_]+)')
      .required(version, 'functionVersion').pattern(version, 'functionVersion', VERSION, '(\\$LATEST|[0-9]+)')
      .length(description, 'description', 0, 256).check();
    const weights = weightsOf(b);
    const a = await d.service.createAlias(tenant, ref.name, {
      name: name as string,
      functionVersion: version as string,
      ...(description === undefined ? {} : { description }),
      ...(weights === undefined || weights === null ? {} : { additionalVersionWeights: weights }),
    });
    res.status(201).json(aliasView(d, a));
  });

  r.get(`${P}/aliases`, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = unqualified(refOf(req));
    const version = queryParam(req, 'FunctionVersion');
    const list = (await d.service.listAliases(tenant, ref.name).catch(asNotFound(d, ref))).filter((a) => version === undefined || a.functionVersion === version);
    res.json(page(list.map((a) => aliasView(d, a)), req.query, 'Aliases'));
  });

  r.get(`${P}/aliases/:Name`, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = unqualified(refOf(req));
    const a = await d.service.getAlias(tenant, ref.name, pathParam(req, 'Name')).catch(asNotFound(d, { name: ref.name, qualifier: pathParam(req, 'Name') }));
    res.json(aliasView(d, a));
  });

  r.put(`${P}/aliases/:Name`, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = unqualified(refOf(req));
    const b = asBody(req.body);
    const version = str(b, 'FunctionVersion');
    const description = str(b, 'Description');
    const revision = str(b, 'RevisionId');
    new Constraints().pattern(version, 'functionVersion', VERSION, '(\\$LATEST|[0-9]+)').length(description, 'description', 0, 256).check();
    const weights = weightsOf(b);
    const name = pathParam(req, 'Name');
    const a = await d.service
      .updateAlias(tenant, ref.name, name, {
        ...(version === undefined ? {} : { functionVersion: version }),
        ...(description === undefined ? {} : { description }),
        ...(weights === undefined ? {} : { additionalVersionWeights: weights }),
        ...(revision === undefined ? {} : { expectedRevisionId: revision }),
      })
      .catch(asNotFound(d, { name: ref.name, qualifier: name }));
    res.json(aliasView(d, a));
  });

  r.delete(`${P}/aliases/:Name`, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = unqualified(refOf(req));
    const name = pathParam(req, 'Name');
    await d.service.deleteAlias(tenant, ref.name, name).catch(asNotFound(d, { name: ref.name, qualifier: name }));
    res.status(204).end();
  });

  return r;
}

function unqualified<T extends { qualifier?: string }>(ref: T): T {
  if (ref.qualifier !== undefined) throw new LambdaApiError('InvalidParameterValueException', 'This operation takes an unqualified function name.');
  return ref;
}

/** `RoutingConfig.AdditionalVersionWeights`: absent keeps, an empty map (or no RoutingConfig member) clears on update. */
function weightsOf(b: Body): Record<string, number> | null | undefined {
  const routing = obj(b, 'RoutingConfig');
  if (routing === undefined) return undefined;
  const weights = obj(routing, 'AdditionalVersionWeights');
  if (weights === undefined || Object.keys(weights).length === 0) return null;
  const c = new Constraints();
  for (const [k, w] of Object.entries(weights)) {
    if (typeof w !== 'number') throw new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json: AdditionalVersionWeights values must be numbers.');
    c.pattern(k, 'routingConfig.additionalVersionWeights.key', /^[0-9]+$/, '[0-9]+').range(w, 'routingConfig.additionalVersionWeights', 0, 1);
  }
  c.check();
  if (Object.keys(weights).length > 1) throw new LambdaApiError('InvalidParameterValueException', 'Number of items in AdditionalVersionWeights cannot be greater than 1');
  return weights as Record<string, number>;
}

function aliasView(d: LambdaApiDeps, a: AliasRecord): Record<string, unknown> {
  const weights = a.additionalVersionWeights;
  return {
    AliasArn: functionArn(d.region, a.functionName, a.name),
    Name: a.name,
    FunctionVersion: a.functionVersion,
    Description: a.description,
    ...(Object.keys(weights).length === 0 ? {} : { RoutingConfig: { AdditionalVersionWeights: weights } }),
    RevisionId: a.revisionId,
  };
}

/** `Marker` (an offset, opaque to callers) and `MaxItems` (at most 50 a page). */
function page<T>(items: readonly T[], query: Record<string, unknown>, key: string): Record<string, unknown> {
  const rawMax = query['MaxItems'];
  const max = rawMax === undefined ? PAGE_MAX : Number(rawMax);
  new Constraints().range(Number.isInteger(max) ? max : 0, 'maxItems', 1, 10_000).check();
  const marker = typeof query['Marker'] === 'string' ? Number(Buffer.from(query['Marker'], 'base64url').toString('utf8')) : 0;
  const start = Number.isSafeInteger(marker) && marker >= 0 ? marker : 0;
  const end = start + Math.min(max, PAGE_MAX);
  const slice = items.slice(start, end);
  return { [key]: slice, ...(end < items.length ? { NextMarker: Buffer.from(String(end)).toString('base64url') } : {}) };
}
