/**
 * Gantry's function records in the Lambda API's shapes (compat.md §2.4): FunctionConfiguration,
 * with AWS's runtime names, a base64 CodeSha256, LastModified as `…000+0000`, a RevisionId that
 * changes with every change, and `State`/`LastUpdateStatus` settled (every change is done by the
 * time its call returns, so the SDK's waiters pass at their first poll). Pure.
 */
import { createHash } from 'node:crypto';
import { functionArn } from '../functions/lambda-contract.js';
import type { FunctionRecord } from '../functions/function-types.js';
import { awsRuntimeName } from '../runtimes/runtime-catalog.js';
import type { LambdaAttributes } from './lambda-attributes-store.js';

export const ACCOUNT_ID = '000000000000';
const DEFAULT_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/gantry-function`;

/** ISO-8601 with milliseconds and a `+0000` offset, as Lambda writes it. */
export function lastModified(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

/** The hex SHA-256 Gantry keeps, as the base64 AWS gives. */
export function base64Sha256(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/**
 * The function's RevisionId (it changes with every code or configuration change; a role change
 * goes through the service too, so it changes then as well). A record from before the column
 * existed gets a digest of its version and update time.
 */
export function revisionId(f: FunctionRecord): string {
  if (f.revisionId !== undefined) return f.revisionId;
  const h = createHash('sha256').update(`${f.functionId}:${f.versionId}:${f.updatedAt.getTime()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function functionConfiguration(region: string, f: FunctionRecord, a: LambdaAttributes, version = '$LATEST'): Record<string, unknown> {
  const env = Object.keys(f.environment).length > 0 ? { Environment: { Variables: f.environment } } : {};
  return {
    FunctionName: f.name,
    FunctionArn: version === '$LATEST' ? functionArn(region, f.name) : functionArn(region, f.name, version),
    Runtime: awsRuntimeName(f.runtime),
    Role: a.role === '' ? DEFAULT_ROLE : a.role,
    Handler: f.handler,
    CodeSize: f.codeSize,
    CodeSha256: base64Sha256(f.codeSha256),
    Description: f.description ?? '',
    Timeout: Math.ceil(f.timeoutMs / 1000),
    MemorySize: f.memoryMb,
    LastModified: lastModified(f.updatedAt),
    Version: version,
    ...env,
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: revisionId(f),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${f.name}` },
  };
}
