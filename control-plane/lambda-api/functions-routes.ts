/**
 * CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions, UpdateFunctionCode,
 * UpdateFunctionConfiguration and DeleteFunction (compat.md §2.4), translated onto the function
 * service: the same checks, code cache and change notification as Gantry's own API.
 */
import { Router, type Request } from 'express';
import type { Precondition } from '../functions/function-store.js';
import type { FunctionConfigPatch, FunctionRecord } from '../functions/function-types.js';
import { RESERVED_ENV_KEYS } from '../functions/lambda-contract.js';
import { functionConfiguration, revisionId } from './function-configuration.js';
import { EMPTY_ATTRIBUTES, type LambdaAttributes } from './lambda-attributes-store.js';
import { publishedRecord, queryParam, refOf, requireFunction, requireVersion, tenantOf, type LambdaApiDeps } from './lambda-context.js';
import { LambdaApiError } from './lambda-errors.js';
import { asBody, bool, Constraints, int, list, obj, str, stringMap, type Body } from './lambda-input.js';
import { parseFunctionRef } from './function-name.js';

const P = '/2015-03-31/functions';
/** ListFunctions and ListVersionsByFunction give at most 50 items a page (compat.md §2.4). */
export const PAGE_MAX = 50;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;
const MAX_ENV_BYTES = 4096;
const ZIP_MAX_BYTES = 52_428_800;
const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const ROLE_SHOWN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';

export function functionsRoutes(d: LambdaApiDeps): Router {
  const r = Router();
  const view = (f: FunctionRecord, a: LambdaAttributes) => functionConfiguration(d.region, f, a);

  r.post([P, `${P}/`], async (req, res) => {
    const tenant = tenantOf(res);
    const b = asBody(req.body);
    const name = str(b, 'FunctionName');
    const runtime = str(b, 'Runtime');
    const handler = str(b, 'Handler');
    const role = str(b, 'Role');
    const code = obj(b, 'Code');
    new Constraints().required(name, 'functionName').required(role, 'role').required(code, 'code').check();
    const fn = parseFunctionRef(name as string, undefined);
    if (fn.qualifier !== undefined) throw new LambdaApiError('InvalidParameterValueException', 'A function name for CreateFunction cannot be qualified.');
    const settings = configurationOf(b, true);
    if (runtime === undefined || handler === undefined) {
      throw new LambdaApiError('InvalidParameterValueException', 'Runtime and Handler are mandatory parameters for functions created with Zip package type.');
    }
    const zip = zipOf(code as Body);
    checkTags(stringMap(b, 'Tags') ?? {});
    const record = await d.service.create(tenant, {
      name: fn.name,
      runtime,
      handler,
      memoryMb: settings.memoryMb ?? 128,
      timeoutMs: settings.timeoutMs ?? 3000,
      environment: settings.environment ?? {},
      network: 'default',
      ...(settings.description === undefined ? {} : { description: settings.description }),
      zip,
    });
    const tags = stringMap(b, 'Tags') ?? {};
    const attrs = await d.attributes.update(tenant, record.functionId, (a) => ({ ...a, role: role as string, tags }));
    if (bool(b, 'Publish') === true) {
      const v = await d.service.publishVersion(tenant, fn.name, {});
      res.status(201).json(functionConfiguration(d.region, publishedRecord(record, v), attrs, String(v.version)));
      return;
    }
    res.status(201).json(view(record, attrs));
  });

  r.get([P, `${P}/`], async (req, res) => {
    const tenant = tenantOf(res);
    const maxItems = queryParam(req, 'MaxItems');
    const max = maxItems === undefined ? PAGE_MAX : Number(maxItems);
    new Constraints().range(Number.isInteger(max) ? max : 0, 'maxItems', 1, 10_000).check();
    const marker = queryParam(req, 'Marker');
    const all = await d.store.list(tenant);
    const start = marker === undefined ? 0 : all.findIndex((f) => f.name > decodeMarker(marker));
    const page = start < 0 ? [] : all.slice(start, start + Math.min(max, PAGE_MAX));
    const attrs = await d.attributes.getMany(page.map((f) => f.functionId));
    const last = page[page.length - 1];
    const more = start >= 0 && last !== undefined && start + page.length < all.length;
    const withVersions = queryParam(req, 'FunctionVersion') === 'ALL';
    const functions: Record<string, unknown>[] = [];
    for (const f of page) {
      const a = attrs.get(f.functionId) ?? EMPTY_ATTRIBUTES;
      functions.push(view(f, a));
      // FunctionVersion=ALL: each function's published versions after its $LATEST, as AWS lists them.
      if (withVersions) for (const v of (await d.service.listVersions(tenant, f.name)).versions) functions.push(functionConfiguration(d.region, publishedRecord(f, v), a, String(v.version)));
    }
    res.json({ Functions: functions, ...(more ? { NextMarker: encodeMarker(last.name) } : {}) });
  });

  r.get(`${P}/:FunctionName`, async (req, res) => {
    const tenant = tenantOf(res);
    const { latest: f, record, version } = await requireVersion(d, tenant, refOf(req));
    const a = await d.attributes.get(f.functionId);
    res.json({
      Configuration: functionConfiguration(d.region, record, a, version),
      Code: { RepositoryType: 'S3', Location: d.codeLocation.url(baseUrlOf(req), record.codeSha256) },
      Tags: a.tags,
      ...(f.reservedConcurrency === null ? {} : { Concurrency: { ReservedConcurrentExecutions: f.reservedConcurrency } }),
    });
  });

  r.get(`${P}/:FunctionName/configuration`, async (req, res) => {
    const tenant = tenantOf(res);
    const { latest, record, version } = await requireVersion(d, tenant, refOf(req));
    res.json(functionConfiguration(d.region, record, await d.attributes.get(latest.functionId), version));
  });

  r.put(`${P}/:FunctionName/code`, async (req, res) => {
    const tenant = tenantOf(res);
    const b = asBody(req.body);
    const ref = refOf(req);
    if (ref.qualifier !== undefined) throw new LambdaApiError('InvalidParameterValueException', 'Only $LATEST can be updated: leave the function name unqualified.');
    const current = await requireFunction(d, tenant, ref);
    const pre = preconditionOf(b);
    const zip = zipOf(b);
    if (bool(b, 'DryRun') === true) {
      checkRevision(current, pre.expectedRevisionId);
      res.json(view(current, await d.attributes.get(current.functionId)));
      return;
    }
    const record = await d.service.replaceCode(tenant, ref.name, zip, pre);
    const attrs = await d.attributes.get(record.functionId);
    if (bool(b, 'Publish') === true) {
      const v = await d.service.publishVersion(tenant, ref.name, {});
      res.json(functionConfiguration(d.region, publishedRecord(record, v), attrs, String(v.version)));
      return;
    }
    res.json(view(record, attrs));
  });

  r.put(`${P}/:FunctionName/configuration`, async (req, res) => {
    const tenant = tenantOf(res);
    const b = asBody(req.body);
    const ref = refOf(req);
    if (ref.qualifier !== undefined) throw new LambdaApiError('InvalidParameterValueException', 'Only $LATEST can be updated: leave the function name unqualified.');
    const current = await requireFunction(d, tenant, ref);
    const role = str(b, 'Role');
    new Constraints().pattern(role, 'role', ROLE, ROLE_SHOWN).check();
    const settings = configurationOf(b, false);
    const pre = preconditionOf(b);
    // Always through the service, even for a role alone: the RevisionId changes, its precondition holds.
    const patch: FunctionConfigPatch = dropUndefined({
      runtime: str(b, 'Runtime'),
      handler: str(b, 'Handler'),
      memoryMb: settings.memoryMb,
      timeoutMs: settings.timeoutMs,
      environment: settings.environment,
      description: settings.description ?? current.description ?? '',
    });
    const record = await d.service.patch(tenant, ref.name, patch, pre);
    const attrs = role !== undefined ? await d.attributes.update(tenant, record.functionId, (a) => ({ ...a, role })) : await d.attributes.get(record.functionId);
    res.json(view(record, attrs));
  });

  r.delete(`${P}/:FunctionName`, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = refOf(req);
    if (ref.qualifier === '$LATEST') throw new LambdaApiError('InvalidParameterValueException', '$LATEST version cannot be deleted without deleting the function.');
    if (ref.qualifier !== undefined && !/^[0-9]+$/.test(ref.qualifier)) {
      throw new LambdaApiError('InvalidParameterValueException', 'Deletion of aliases is not supported by DeleteFunction: use DeleteAlias.');
    }
    await requireVersion(d, tenant, ref);
    if (ref.qualifier === undefined) await d.service.delete(tenant, ref.name);
    else await d.service.deleteVersion(tenant, ref.name, Number(ref.qualifier));
    res.status(204).end();
  });

  return r;
}

interface Settings {
  readonly memoryMb?: number;
  readonly timeoutMs?: number;
  readonly environment?: Readonly<Record<string, string>>;
  readonly description?: string;
}

/** The configuration members CreateFunction and UpdateFunctionConfiguration share. */
function configurationOf(b: Body, creating: boolean): Settings {
  const memory = int(b, 'MemorySize');
  const timeout = int(b, 'Timeout');
  const description = str(b, 'Description');
  const envBlock = obj(b, 'Environment');
  const variables = envBlock === undefined ? undefined : stringMap(envBlock, 'Variables') ?? {};
  new Constraints().range(memory, 'memorySize', 128, 10240).range(timeout, 'timeout', 1, 900).length(description, 'description', 0, 256).check();
  if (creating) {
    new Constraints().pattern(str(b, 'Role'), 'role', ROLE, ROLE_SHOWN).check();
  }
  unsupported(b);
  if (variables !== undefined) checkEnvironment(variables);
  return dropUndefined({ memoryMb: memory, timeoutMs: timeout === undefined ? undefined : timeout * 1000, environment: variables, description });
}

/** Members whose feature Gantry does not have: refused rather than silently dropped. */
function unsupported(b: Body): void {
  const pkg = str(b, 'PackageType');
  if (pkg !== undefined && pkg !== 'Zip') throw new LambdaApiError('InvalidParameterValueException', 'Gantry runs Zip packages only (PackageType Image is not supported).');
  const layers = list(b, 'Layers');
  if (layers !== undefined && layers.length > 0) throw new LambdaApiError('InvalidParameterValueException', 'Layers are not supported by Gantry.');
  const arch = list(b, 'Architectures');
  if (arch !== undefined && !(arch.length === 1 && arch[0] === 'x86_64')) throw new LambdaApiError('InvalidParameterValueException', 'Gantry runs x86_64 functions only.');
}

function checkEnvironment(vars: Readonly<Record<string, string>>): void {
  const reserved = Object.keys(vars).filter((k) => RESERVED_ENV_KEYS.has(k));
  if (reserved.length > 0) {
    throw new LambdaApiError(
      'InvalidParameterValueException',
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const bad = Object.keys(vars).find((k) => !ENV_KEY.test(k));
  if (bad !== undefined) throw new LambdaApiError('InvalidParameterValueException', `Environment variable name "${bad.slice(0, 64)}" must match [a-zA-Z][a-zA-Z0-9_]+.`);
  if (Object.values(vars).some((v) => v.includes('\0'))) throw new LambdaApiError('InvalidParameterValueException', 'Environment variable values must not contain NUL characters.');
  const bytes = Object.entries(vars).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > MAX_ENV_BYTES) {
    throw new LambdaApiError('InvalidParameterValueException', `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${bytes} bytes.`);
  }
}

function checkTags(tags: Readonly<Record<string, string>>): void {
  const c = new Constraints();
  for (const [k, v] of Object.entries(tags)) c.length(k, 'tags.key', 1, 128).length(v, 'tags.value', 0, 256);
  c.check();
  if (Object.keys(tags).length > 50) throw new LambdaApiError('InvalidParameterValueException', 'A function can have at most 50 tags.');
}

/** `ZipFile` (base64 in the JSON body, restJson1's blob) is the only code source Gantry has. */
function zipOf(code: Body): Buffer {
  if (code['S3Bucket'] !== undefined || code['S3Key'] !== undefined || code['ImageUri'] !== undefined) {
    throw new LambdaApiError('InvalidParameterValueException', 'Gantry takes code as ZipFile only (S3Bucket/S3Key and ImageUri are not supported).');
  }
  const text = str(code, 'ZipFile');
  if (text === undefined || text === '') throw new LambdaApiError('InvalidParameterValueException', 'Please provide a source for function code (ZipFile).');
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json: ZipFile is not valid base64.');
  }
  const zip = Buffer.from(compact, 'base64');
  if (zip.length > ZIP_MAX_BYTES) throw new LambdaApiError('RequestEntityTooLargeException', `Zipped size must be smaller than ${ZIP_MAX_BYTES} bytes`);
  return zip;
}

/** `RevisionId`: the service checks it in the write's own transaction (→ 412 PreconditionFailedException). */
function preconditionOf(b: Body): Precondition {
  const expected = str(b, 'RevisionId');
  return expected === undefined ? {} : { expectedRevisionId: expected };
}

/** The same check where nothing is written (DryRun). */
function checkRevision(f: FunctionRecord, expected: string | undefined): void {
  if (expected !== undefined && revisionId(f) !== expected) {
    throw new LambdaApiError('PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
  }
}

/** Where the caller reached this API: download URLs point back there. */
export function baseUrlOf(req: Request): string {
  const host = req.headers.host ?? '127.0.0.1';
  return `${req.protocol}://${/^[A-Za-z0-9.:[\]-]+$/.test(host) ? host : '127.0.0.1'}`;
}

function encodeMarker(name: string): string {
  return Buffer.from(name).toString('base64url');
}

function decodeMarker(marker: string): string {
  return Buffer.from(marker, 'base64url').toString('utf8');
}

function dropUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
