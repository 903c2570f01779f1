/**
 * The function model shared by the admin API, the invoker and the scheduler. A FunctionVersion is
 * immutable: what an environment was started for, and what an invocation ran.
 */

export type TenantId = string & { readonly __brand: 'TenantId' };
export type FunctionId = string & { readonly __brand: 'FunctionId' };
export type VersionId = number & { readonly __brand: 'VersionId' };

export const DEFAULT_TENANT = 'default' as TenantId;

export type NetworkMode = 'default' | 'none';

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
}

export interface FunctionRecord extends FunctionVersion {
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly reservedConcurrency: number | null;
  readonly provisionedConcurrency: number | null;
}

/** What the admin API may change; absent keys keep their value. */
export interface FunctionConfigPatch extends Partial<FunctionSettings> {
  readonly reservedConcurrency?: number | null;
  readonly provisionedConcurrency?: number | null;
}

/** api.md FunctionConfig, the wire shape. */
export function toFunctionConfig(f: FunctionRecord, provisionedReady: number | null = null): Record<string, unknown> {
  return {
    name: f.name,
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
