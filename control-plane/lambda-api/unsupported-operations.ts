/**
 * The operations of AWS's current Lambda model (client-lambda 3.1178.0, 91 in all) that Gantry does
 * not implement. Each answers in AWS's envelope with `UnsupportedOperationException` (501, which
 * the SDKs do not retry) and names itself, so a tool sees which call it made rather than a 404
 * page. Any other path under an API date is AWS's `UnknownOperationException`.
 */
import type { Request } from 'express';
import { LambdaApiError } from './lambda-errors.js';

type Operation = readonly [name: string, method: string, path: string];

const UNSUPPORTED: readonly Operation[] = [
  ['AddLayerVersionPermission', 'POST', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy'],
  ['CheckpointDurableExecution', 'POST', '/2025-12-01/durable-executions/{DurableExecutionArn}/checkpoint'],
  ['CreateCapacityProvider', 'POST', '/2025-11-30/capacity-providers'],
  ['CreateCodeSigningConfig', 'POST', '/2020-04-22/code-signing-configs'],
  ['CreateEventSourceMapping', 'POST', '/2015-03-31/event-source-mappings'],
  ['CreateFunctionUrlConfig', 'POST', '/2021-10-31/functions/{FunctionName}/url'],
  ['DeleteCapacityProvider', 'DELETE', '/2025-11-30/capacity-providers/{CapacityProviderName}'],
  ['DeleteCodeSigningConfig', 'DELETE', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}'],
  ['DeleteDurableExecution', 'DELETE', '/2025-12-01/durable-executions/{DurableExecutionArn}'],
  ['DeleteEventSourceMapping', 'DELETE', '/2015-03-31/event-source-mappings/{UUID}'],
  ['DeleteFunctionCodeSigningConfig', 'DELETE', '/2020-06-30/functions/{FunctionName}/code-signing-config'],
  ['DeleteFunctionUrlConfig', 'DELETE', '/2021-10-31/functions/{FunctionName}/url'],
  ['DeleteLayerVersion', 'DELETE', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}'],
  ['DeleteResourcePolicy', 'DELETE', '/2026-07-09/resource-policy/{ResourceArn}'],
  ['GetCapacityProvider', 'GET', '/2025-11-30/capacity-providers/{CapacityProviderName}'],
  ['GetCodeSigningConfig', 'GET', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}'],
  ['GetDurableExecution', 'GET', '/2025-12-01/durable-executions/{DurableExecutionArn}'],
  ['GetDurableExecutionHistory', 'GET', '/2025-12-01/durable-executions/{DurableExecutionArn}/history'],
  ['GetDurableExecutionState', 'GET', '/2025-12-01/durable-executions/{DurableExecutionArn}/state'],
  ['GetEventSourceMapping', 'GET', '/2015-03-31/event-source-mappings/{UUID}'],
  ['GetFunctionScalingConfig', 'GET', '/2025-11-30/functions/{FunctionName}/function-scaling-config'],
  ['GetFunctionUrlConfig', 'GET', '/2021-10-31/functions/{FunctionName}/url'],
  ['GetLayerVersion', 'GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}'],
  ['GetLayerVersionByArn', 'GET', '/2018-10-31/layers?find=LayerVersion'],
  ['GetLayerVersionPolicy', 'GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy'],
  ['GetResourcePolicy', 'GET', '/2026-07-09/resource-policy/{ResourceArn}'],
  ['InvokeWithResponseStream', 'POST', '/2021-11-15/functions/{FunctionName}/response-streaming-invocations'],
  ['ListCapacityProviders', 'GET', '/2025-11-30/capacity-providers'],
  ['ListCodeSigningConfigs', 'GET', '/2020-04-22/code-signing-configs'],
  ['ListDurableExecutionsByFunction', 'GET', '/2025-12-01/functions/{FunctionName}/durable-executions'],
  ['ListEventSourceMappings', 'GET', '/2015-03-31/event-source-mappings'],
  ['ListFunctionsByCodeSigningConfig', 'GET', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}/functions'],
  ['ListFunctionUrlConfigs', 'GET', '/2021-10-31/functions/{FunctionName}/urls'],
  ['ListFunctionVersionsByCapacityProvider', 'GET', '/2025-11-30/capacity-providers/{CapacityProviderName}/function-versions'],
  ['ListLayers', 'GET', '/2018-10-31/layers'],
  ['ListLayerVersions', 'GET', '/2018-10-31/layers/{LayerName}/versions'],
  ['PauseDurableExecution', 'POST', '/2025-12-01/durable-executions/{DurableExecutionArn}/pause'],
  ['PublishLayerVersion', 'POST', '/2018-10-31/layers/{LayerName}/versions'],
  ['PutFunctionCodeSigningConfig', 'PUT', '/2020-06-30/functions/{FunctionName}/code-signing-config'],
  ['PutFunctionRecursionConfig', 'PUT', '/2024-08-31/functions/{FunctionName}/recursion-config'],
  ['PutFunctionScalingConfig', 'PUT', '/2025-11-30/functions/{FunctionName}/function-scaling-config'],
  ['PutResourcePolicy', 'PUT', '/2026-07-09/resource-policy/{ResourceArn}'],
  ['PutRuntimeManagementConfig', 'PUT', '/2021-07-20/functions/{FunctionName}/runtime-management-config'],
  ['RemoveLayerVersionPermission', 'DELETE', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}'],
  ['ResumeDurableExecution', 'POST', '/2025-12-01/durable-executions/{DurableExecutionArn}/resume'],
  ['SendDurableExecutionCallbackFailure', 'POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/fail'],
  ['SendDurableExecutionCallbackHeartbeat', 'POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/heartbeat'],
  ['SendDurableExecutionCallbackSuccess', 'POST', '/2025-12-01/durable-execution-callbacks/{CallbackId}/succeed'],
  ['StopDurableExecution', 'POST', '/2025-12-01/durable-executions/{DurableExecutionArn}/stop'],
  ['UpdateCapacityProvider', 'PUT', '/2025-11-30/capacity-providers/{CapacityProviderName}'],
  ['UpdateCodeSigningConfig', 'PUT', '/2020-04-22/code-signing-configs/{CodeSigningConfigArn}'],
  ['UpdateEventSourceMapping', 'PUT', '/2015-03-31/event-source-mappings/{UUID}'],
  ['UpdateFunctionUrlConfig', 'PUT', '/2021-10-31/functions/{FunctionName}/url'],
];

interface Matcher {
  readonly name: string;
  readonly method: string;
  readonly path: RegExp;
  /** A query member the operation's path fixes (`?find=LayerVersion`, `?List=ALL`). */
  readonly query?: readonly [string, string];
}

const MATCHERS: readonly Matcher[] = UNSUPPORTED.map(([name, method, template]) => {
  const [path, fixed] = template.split('?') as [string, string | undefined];
  const re = new RegExp(`^${path.replace(/[.*+^$()|[\]\\]/g, '\\$&').replace(/\{[A-Za-z]+\}/g, '[^/]+')}/?$`);
  const q = fixed?.split('=') as [string, string] | undefined;
  return q === undefined ? { name, method, path: re } : { name, method, path: re, query: q };
})
  // Operations whose path fixes a query member are tried first: they share a path with another.
  .sort((a, b) => Number(b.query !== undefined) - Number(a.query !== undefined));

export function unsupportedOperation(req: Request): never {
  const path = req.path;
  const m = MATCHERS.find((o) => o.method === req.method && o.path.test(path) && (o.query === undefined || req.query[o.query[0]] === o.query[1]));
  if (m !== undefined) throw new LambdaApiError('UnsupportedOperationException', `${m.name} is not supported by Gantry.`);
  throw new LambdaApiError('UnknownOperationException', `Unknown operation: ${req.method} ${path.slice(0, 256)}`);
}

export const UNSUPPORTED_OPERATIONS: readonly string[] = UNSUPPORTED.map(([name]) => name);
