/**
 * Concurrency and asynchronous settings in AWS's shapes, onto what Gantry already has: reserved
 * concurrency (Put/Get/DeleteFunctionConcurrency; note AWS's two path dates), provisioned
 * concurrency (on `$LATEST`, where Gantry keeps it) and the event-invoke config (Gantry's async
 * config: retries, event age, function destinations).
 */
import { Router } from 'express';
import { DEFAULT_ASYNC_CONFIG, type AsyncConfig, type Destination } from '../async/async-config.js';
import type { FunctionRecord } from '../functions/function-types.js';
import { functionArn } from '../functions/lambda-contract.js';
import { lastModified } from './function-configuration.js';
import { parseFunctionRef } from './function-name.js';
import { queryParam, refOf, requireFunction, tenantOf, type LambdaApiDeps } from './lambda-context.js';
import { LambdaApiError } from './lambda-errors.js';
import { asBody, Constraints, int, obj, str, type Body } from './lambda-input.js';

/** What a node may reserve for one function (Gantry's own API's bound). */
const MAX_RESERVED = 100_000;

export function settingsRoutes(d: LambdaApiDeps): Router {
  const r = Router();

  r.put('/2017-10-31/functions/:FunctionName/concurrency', async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireUnqualified(d, tenant, req);
    const n = int(asBody(req.body), 'ReservedConcurrentExecutions');
    new Constraints().required(n, 'reservedConcurrentExecutions').range(n, 'reservedConcurrentExecutions', 0, MAX_RESERVED).check();
    const record = await d.service.patch(tenant, f.name, { reservedConcurrency: n as number });
    res.json({ ReservedConcurrentExecutions: record.reservedConcurrency });
  });

  r.get('/2019-09-30/functions/:FunctionName/concurrency', async (req, res) => {
    const f = await requireUnqualified(d, tenantOf(res), req);
    res.json(f.reservedConcurrency === null ? {} : { ReservedConcurrentExecutions: f.reservedConcurrency });
  });

  r.delete('/2017-10-31/functions/:FunctionName/concurrency', async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireUnqualified(d, tenant, req);
    await d.service.patch(tenant, f.name, { reservedConcurrency: null });
    res.status(204).end();
  });

  r.put('/2019-09-30/functions/:FunctionName/provisioned-concurrency', async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireProvisionable(d, tenant, req);
    const n = int(asBody(req.body), 'ProvisionedConcurrentExecutions');
    new Constraints().required(n, 'provisionedConcurrentExecutions').range(n, 'provisionedConcurrentExecutions', 1, MAX_RESERVED).check();
    const record = await d.service.patch(tenant, f.name, { provisionedConcurrency: n as number });
    res.status(202).json(provisionedView(d, record));
  });

  r.get('/2019-09-30/functions/:FunctionName/provisioned-concurrency', async (req, res) => {
    const tenant = tenantOf(res);
    if (queryParam(req, 'List') === 'ALL') {
      const f = await requireFunction(d, tenant, parseFunctionRef(String(req.params['FunctionName'] ?? ''), undefined));
      const items = f.provisionedConcurrency === null ? [] : [{ FunctionArn: `${functionArn(d.region, f.name)}:$LATEST`, ...provisionedView(d, f) }];
      res.json({ ProvisionedConcurrencyConfigs: items });
      return;
    }
    const f = await requireProvisionable(d, tenant, req);
    if (f.provisionedConcurrency === null) throw new LambdaApiError('ProvisionedConcurrencyConfigNotFoundException', 'No Provisioned Concurrency Config found for this function');
    res.json(provisionedView(d, f));
  });

  r.delete('/2019-09-30/functions/:FunctionName/provisioned-concurrency', async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireProvisionable(d, tenant, req);
    await d.service.patch(tenant, f.name, { provisionedConcurrency: null });
    res.status(204).end();
  });

  const eventConfigPath = '/2019-09-25/functions/:FunctionName/event-invoke-config';
  r.put(eventConfigPath, async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireUnqualified(d, tenant, req);
    const next = eventConfigFrom(d, asBody(req.body), { ...DEFAULT_ASYNC_CONFIG, onFailure: DEFAULT_ASYNC_CONFIG.onFailure });
    res.json(eventConfigView(d, f, await d.asyncService.putConfig(tenant, f.name, next)));
  });

  r.post(eventConfigPath, async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireUnqualified(d, tenant, req);
    const next = eventConfigFrom(d, asBody(req.body), await d.asyncService.getConfig(tenant, f.name));
    res.json(eventConfigView(d, f, await d.asyncService.putConfig(tenant, f.name, next)));
  });

  r.get(eventConfigPath, async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireUnqualified(d, tenant, req);
    res.json(eventConfigView(d, f, await d.asyncService.getConfig(tenant, f.name)));
  });

  r.delete(eventConfigPath, async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireUnqualified(d, tenant, req);
    await d.asyncService.putConfig(tenant, f.name, DEFAULT_ASYNC_CONFIG);
    res.status(204).end();
  });

  r.get(`${eventConfigPath}/list`, async (req, res) => {
    const tenant = tenantOf(res);
    const f = await requireUnqualified(d, tenant, req);
    res.json({ FunctionEventInvokeConfigs: [eventConfigView(d, f, await d.asyncService.getConfig(tenant, f.name))] });
  });

  return r;
}

async function requireUnqualified(d: LambdaApiDeps, tenant: Parameters<typeof requireFunction>[1], req: Parameters<typeof refOf>[0]): Promise<FunctionRecord> {
  return requireFunction(d, tenant, refOf(req));
}

/** Gantry keeps provisioned environments for `$LATEST`: that is the one qualifier accepted. */
async function requireProvisionable(d: LambdaApiDeps, tenant: Parameters<typeof requireFunction>[1], req: Parameters<typeof refOf>[0]): Promise<FunctionRecord> {
  const ref = refOf(req);
  if (ref.qualifier === undefined) new Constraints().required(undefined, 'qualifier').check();
  return requireFunction(d, tenant, ref);
}

function provisionedView(d: LambdaApiDeps, f: FunctionRecord): Record<string, unknown> {
  const requested = f.provisionedConcurrency ?? 0;
  const ready = Math.min(requested, d.provisionedReady(f.functionId));
  return {
    RequestedProvisionedConcurrentExecutions: requested,
    AvailableProvisionedConcurrentExecutions: ready,
    AllocatedProvisionedConcurrentExecutions: ready,
    Status: ready >= requested ? 'READY' : 'IN_PROGRESS',
    LastModified: lastModified(f.updatedAt),
  };
}

/** A PUT starts from the defaults, an update (POST) from the current config. */
function eventConfigFrom(d: LambdaApiDeps, b: Body, base: AsyncConfig): AsyncConfig {
  const retries = int(b, 'MaximumRetryAttempts');
  const age = int(b, 'MaximumEventAgeInSeconds');
  new Constraints().range(retries, 'maximumRetryAttempts', 0, 2).range(age, 'maximumEventAgeInSeconds', 60, 21600).check();
  const dest = obj(b, 'DestinationConfig');
  const onSuccess = dest === undefined ? undefined : obj(dest, 'OnSuccess');
  const onFailure = dest === undefined ? undefined : obj(dest, 'OnFailure');
  return {
    ...base,
    maximumRetryAttempts: retries ?? base.maximumRetryAttempts,
    maximumEventAgeSeconds: age ?? base.maximumEventAgeSeconds,
    onSuccess: onSuccess === undefined ? base.onSuccess : destinationOf(onSuccess),
    onFailure: onFailure === undefined ? base.onFailure : destinationOf(onFailure) ?? DEFAULT_ASYNC_CONFIG.onFailure,
  };
}

/** Gantry sends outcomes to functions (and keeps failures as dead letters by default). */
function destinationOf(o: Body): { function: string } | null {
  const arn = str(o, 'Destination');
  if (arn === undefined || arn === '') return null;
  if (!arn.includes(':function:')) throw new LambdaApiError('InvalidParameterValueException', `Gantry sends event destinations to functions only; ${arn.slice(0, 256)} is not a function ARN.`);
  const ref = parseFunctionRef(arn, undefined, 'destination');
  if (ref.qualifier !== undefined) throw new LambdaApiError('InvalidParameterValueException', 'A destination function cannot be qualified.');
  return { function: ref.name };
}

function eventConfigView(d: LambdaApiDeps, f: FunctionRecord, c: AsyncConfig): Record<string, unknown> {
  const dest = (x: Destination | null) => (x !== null && 'function' in x ? { Destination: functionArn(d.region, x.function) } : {});
  return {
    FunctionArn: `${functionArn(d.region, f.name)}:$LATEST`,
    MaximumRetryAttempts: c.maximumRetryAttempts,
    MaximumEventAgeInSeconds: c.maximumEventAgeSeconds,
    // restJson1 timestamps are epoch seconds.
    LastModified: Math.floor(f.updatedAt.getTime() / 1000),
    DestinationConfig: { OnSuccess: dest(c.onSuccess), OnFailure: dest(c.onFailure) },
  };
}
