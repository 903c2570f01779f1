/**
 * What every Lambda API route stands on: its collaborators, the caller's tenant (set by the
 * authentication seam), and the lookup of a function by its `FunctionName` member with AWS's
 * not-found sentence.
 */
import type { Request, Response } from 'express';
import type { Logger } from '../../common/logger.js';
import type { AsyncService } from '../async/async-service.js';
import type { FunctionCache } from '../functions/function-cache.js';
import type { FunctionService } from '../functions/function-service.js';
import type { FunctionStore } from '../functions/function-store.js';
import { LATEST, type FunctionId, type FunctionRecord, type PublishedVersion, type TenantId } from '../functions/function-types.js';
import { functionArn } from '../functions/lambda-contract.js';
import type { Invoker } from '../invocation/invoker.js';
import type { CodeLocation } from './code-location.js';
import { parseFunctionRef, type FunctionRef } from './function-name.js';
import type { LambdaAttributesStore } from './lambda-attributes-store.js';
import { LambdaApiError } from './lambda-errors.js';

export interface LambdaApiDeps {
  readonly region: string;
  readonly service: FunctionService;
  readonly store: FunctionStore;
  /** The invoke path's view of functions: Invoke and DryRun read it, never Postgres. */
  readonly cache: FunctionCache;
  readonly attributes: LambdaAttributesStore;
  readonly invoker: Invoker;
  readonly asyncService: AsyncService;
  readonly codeLocation: CodeLocation;
  readonly provisionedReady: (functionId: FunctionId) => number;
  readonly maxAsyncPayloadBytes: number;
  readonly logger: Logger;
}

/** What the authentication found: the tenant every route then acts for. */
export function setCaller(res: Response, caller: { readonly tenant: TenantId }): void {
  res.locals['tenant'] = caller.tenant;
}

export function tenantOf(res: Response): TenantId {
  const t = res.locals['tenant'] as TenantId | undefined;
  // The authentication middleware runs before every route; a route without it is a wiring bug.
  if (t === undefined) throw new LambdaApiError('ServiceException', 'The request was not authenticated.');
  return t;
}

export function pathParam(req: Request, name: string): string {
  const v = req.params[name];
  return Array.isArray(v) ? v.join('/') : v ?? '';
}

export function queryParam(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** The function named by the path (and `Qualifier` query member). */
export function refOf(req: Request): FunctionRef {
  return parseFunctionRef(pathParam(req, 'FunctionName'), queryParam(req, 'Qualifier'));
}

export function notFound(region: string, name: string, qualifier?: string): LambdaApiError {
  const arn = functionArn(region, name);
  return new LambdaApiError('ResourceNotFoundException', `Function not found: ${qualifier === undefined ? arn : `${arn}:${qualifier}`}`);
}

/** The function ($LATEST) a ref names; its qualifier, if any, must exist too. */
export async function requireFunction(d: LambdaApiDeps, tenant: TenantId, ref: FunctionRef): Promise<FunctionRecord> {
  return (await requireVersion(d, tenant, ref)).latest;
}

export interface VersionView {
  /** $LATEST's record. */
  readonly latest: FunctionRecord;
  /** What the qualifier names, shaped as a record: $LATEST itself or a published snapshot. */
  readonly record: FunctionRecord;
  /** `$LATEST` or the published number. */
  readonly version: string;
}

/** The version a ref names: `$LATEST` (or none), a published number, or an alias's primary version. */
export async function requireVersion(d: LambdaApiDeps, tenant: TenantId, ref: FunctionRef): Promise<VersionView> {
  const latest = await d.store.get(tenant, ref.name);
  if (latest === undefined) throw notFound(d.region, ref.name, ref.qualifier);
  const q = ref.qualifier;
  if (q === undefined || q === LATEST) return { latest, record: latest, version: LATEST };
  let label = q;
  if (!/^[0-9]+$/.test(q)) {
    const alias = await d.service.getAlias(tenant, ref.name, q).catch(asNotFound(d, ref));
    label = alias.functionVersion;
    if (label === LATEST) return { latest, record: latest, version: LATEST };
  }
  const v = await d.service.getVersion(tenant, ref.name, Number(label)).catch(asNotFound(d, ref));
  return { latest, record: publishedRecord(latest, v), version: String(v.version) };
}

/** A published version in the record shape the configuration view reads. */
export function publishedRecord(latest: FunctionRecord, v: PublishedVersion): FunctionRecord {
  return { ...latest, ...v, description: v.description, revisionId: v.revisionId, updatedAt: v.createdAt };
}

export function asNotFound(d: LambdaApiDeps, ref: FunctionRef): (e: unknown) => never {
  return (e) => {
    if ((e as { type?: string }).type === 'ResourceNotFound') throw notFound(d.region, ref.name, ref.qualifier);
    throw e;
  };
}
