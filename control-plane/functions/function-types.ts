/**
 * The function model shared by the admin API, the invoker and the scheduler. A FunctionVersion is
 * immutable: what an environment was started for, and what an invocation ran.
 */

export type TenantId = string & { readonly __brand: 'TenantId' };
export type FunctionId = string & { readonly __brand: 'FunctionId' };
export type VersionId = number & { readonly __brand: 'VersionId' };

export const DEFAULT_TENANT = 'default' as TenantId;

export type NetworkMode = 'default' | 'none';

/** The qualifier of the mutable version: the function's current code and configuration. */
export const LATEST = '$LATEST';

/** What a user configures about how a function runs; every change makes a new version. */
export interface FunctionSettings {
  readonly runtime: string;
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly network: NetworkMode;
}

export interface FunctionVersion extends FunctionSettings {
  readonly tenantId: TenantId;
  readonly functionId: FunctionId;
  readonly versionId: VersionId;
  readonly name: string;
  readonly codeSha256: string;
  readonly codeSize: number;
  /** What runs: `$LATEST` (when absent) or a published version's number, as Lambda spells it
   *  in AWS_LAMBDA_FUNCTION_VERSION, the log stream name and X-Amz-Executed-Version. */
  readonly executedVersion?: string;
}

export interface FunctionRecord extends FunctionVersion {
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly reservedConcurrency: number | null;
  readonly provisionedConcurrency: number | null;
  /** The function's own description (0-256 characters); the store always fills it. */
  readonly description?: string;
  /** A uuid that changes on every code or configuration change (Lambda's RevisionId). */
  readonly revisionId?: string;
}

/**
 * What the function cache holds: $LATEST plus everything a qualified invoke resolves against,
 * each published version already in the shape the invoker runs (no lookup left per call).
 */
export interface InvocableFunction extends FunctionRecord {
  readonly published?: ReadonlyMap<number, FunctionRecord>;
  readonly aliases?: ReadonlyMap<string, AliasRoute>;
}

/** An alias as the hot path needs it: the primary version and at most one weighted extra. */
export interface AliasRoute {
  readonly name: string;
  /** `$LATEST` or a published number. */
  readonly functionVersion: string;
  readonly additionalVersion: string | null;
  /** 0.0-1.0: the share of calls the additional version gets. */
  readonly additionalWeight: number;
}

/** A published version: an immutable snapshot of $LATEST, numbered from 1, never renumbered. */
export interface PublishedVersion extends FunctionVersion {
  readonly version: number;
  readonly description: string;
  readonly revisionId: string;
  readonly createdAt: Date;
}

export interface AliasRecord {
  readonly functionName: string;
  readonly name: string;
  /** `$LATEST` or a published number, as a string (Lambda's FunctionVersion). */
  readonly functionVersion: string;
  /** Lambda's RoutingConfig.AdditionalVersionWeights: at most one entry. */
  readonly additionalVersionWeights: Readonly<Record<string, number>>;
  readonly description: string;
  readonly revisionId: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What a qualifier resolved to for one call. */
export interface ResolvedFunction {
  readonly record: FunctionRecord;
  /** `$LATEST` or the published number that runs. */
  readonly executedVersion: string;
  /** The alias the qualifier named, if it named one. */
  readonly alias?: string;
}

/** What the admin API may change; absent keys keep their value. */
export interface FunctionConfigPatch extends Partial<FunctionSettings> {
  readonly description?: string;
  readonly reservedConcurrency?: number | null;
  readonly provisionedConcurrency?: number | null;
}

/** api.md FunctionConfig, the wire shape. */
export function toFunctionConfig(f: FunctionRecord, provisionedReady: number | null = null): Record<string, unknown> {
  return {
    name: f.name,
    description: f.description ?? '',
    revisionId: f.revisionId ?? null,
    runtime: f.runtime,
    handler: f.handler,
    memoryMb: f.memoryMb,
    timeoutMs: f.timeoutMs,
    environment: f.environment,
    network: f.network,
    codeSha256: f.codeSha256,
    codeSize: f.codeSize,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
    reservedConcurrency: f.reservedConcurrency,
    provisionedConcurrency: f.provisionedConcurrency,
    provisionedConcurrencyReady: f.provisionedConcurrency === null ? null : provisionedReady ?? 0,
  };
}

/** api.md's published version: the FunctionConfig it snapshotted, with its number. */
export function toVersionView(v: PublishedVersion, f: FunctionRecord): Record<string, unknown> {
  return {
    ...toFunctionConfig({ ...f, ...v, description: v.description, revisionId: v.revisionId }),
    version: String(v.version),
    description: v.description,
    codeSha256: v.codeSha256,
    createdAt: v.createdAt.toISOString(),
    updatedAt: v.createdAt.toISOString(),
    // Concurrency belongs to the function, not to a version.
    reservedConcurrency: f.reservedConcurrency,
    provisionedConcurrency: null,
    provisionedConcurrencyReady: null,
  };
}

export function toAliasView(a: AliasRecord): Record<string, unknown> {
  return {
    name: a.name,
    function: a.functionName,
    functionVersion: a.functionVersion,
    description: a.description,
    routingConfig: Object.keys(a.additionalVersionWeights).length === 0 ? null : { additionalVersionWeights: a.additionalVersionWeights },
    revisionId: a.revisionId,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
