/**
 * Pure construction of a function container's spec: the isolation defaults of design.md and the
 * environment Lambda defines (compat.md §1.4) plus the function's own variables, never Gantry's.
 */
import type { ContainerSpec } from '../containers/container-runtime.js';
import type { FunctionVersion } from '../functions/function-types.js';
import { functionArn } from '../functions/lambda-contract.js';
import { CONTAINER_CA_DIR, CONTAINER_TRUST_ENVIRONMENT } from '../../common/function-ca.js';

export type InitializationType = 'on-demand' | 'provisioned-concurrency';

export interface IsolationOptions {
  readonly image: string;
  readonly nodeId: string;
  readonly region: string;
  readonly user: string;
  readonly functionNetwork: string;
  readonly codeDir: string;
  readonly socketDir: string;
  readonly environmentId: string;
  /** For AWS_LAMBDA_LOG_STREAM_NAME's date part. */
  readonly nowMs: number;
  /** 32 hex characters, the stream id Lambda puts in the log stream name. */
  readonly streamId: string;
  readonly initializationType?: InitializationType;
  /** Variables Gantry itself hands the function (GANTRY_CONNECTIONS_URL/TOKEN), never its own config. */
  readonly platformEnvironment?: Readonly<Record<string, string>> | undefined;
  /** The function CA's public directory (common/function-ca.ts), mounted read-only and trusted. */
  readonly functionCaDir?: string | undefined;
  /**
   * A hosts file of Gantry's own, mounted read-only at /etc/hosts (with the function CA): it names
   * the function's WebSocket API, and is rewritten in place when a stem cell is bound to a function.
   */
  readonly hostsFile?: string | undefined;
}

/** Lambda gives one vCPU at 1769 MB; CPU shares follow memory the same way. */
const MB_PER_VCPU = 1769;
/** Enough threads for Node's and Python's pools; a fork bomb stops here. */
const PIDS_LIMIT = 128;
/** Lambda's default ephemeral /tmp; tmpfs pages count against the memory limit anyway. */
const TMPFS_MB = 512;

export const TASK_ROOT = '/var/task';
export const RUNTIME_SOCKET_DIR = '/run/gantry';

export function buildContainerSpec(v: FunctionVersion, o: IsolationOptions): ContainerSpec {
  return baseSpec(v, o, lambdaEnvironment(v, o), {
    'gantry.function': v.name,
    'gantry.function-id': v.functionId,
    'gantry.version': String(v.versionId),
  });
}

/**
 * A stem cell: the runtime's image with only what every function of that runtime shares. No
 * handler (which is what tells the runtime to wait for specialisation), no function name, no
 * function variables; /var/task is the cell's own empty directory.
 */
export function buildStemCellSpec(
  key: { readonly runtime: string; readonly memoryMb: number; readonly network: 'default' | 'none' },
  o: IsolationOptions,
): ContainerSpec {
  const env = {
    ...runtimePaths(key.runtime),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    LAMBDA_TASK_ROOT: TASK_ROOT,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    AWS_REGION: o.region,
    AWS_DEFAULT_REGION: o.region,
    ...executionEnv(key.runtime),
  };
  return baseSpec(key, o, env, { 'gantry.stem-cell': 'true' });
}

function baseSpec(
  shape: { readonly runtime: string; readonly memoryMb: number; readonly network: 'default' | 'none' },
  o: IsolationOptions,
  env: Record<string, string>,
  labels: Record<string, string>,
): ContainerSpec {
  return {
    name: `gantry-${o.nodeId}-${o.environmentId}`.replace(/[^A-Za-z0-9_.-]/g, '-'),
    image: o.image,
    labels: {
      'gantry.managed': 'true',
      'gantry.node': o.nodeId,
      'gantry.environment': o.environmentId,
      'gantry.runtime': shape.runtime,
      ...labels,
    },
    // Read by Node only at process start, so a stem cell needs it as much as a function does.
    env: o.functionCaDir === undefined ? env : { ...CONTAINER_TRUST_ENVIRONMENT, ...env },
    limits: {
      memoryMb: shape.memoryMb,
      cpuShares: Math.max(2, Math.round((1024 * shape.memoryMb) / MB_PER_VCPU)),
      pids: PIDS_LIMIT,
      tmpfsMb: TMPFS_MB,
    },
    user: o.user,
    network: shape.network === 'none' ? { mode: 'none' } : { mode: 'network', name: o.functionNetwork },
    mounts: [
      { hostPath: o.codeDir, containerPath: TASK_ROOT, readOnly: true },
      { hostPath: o.socketDir, containerPath: RUNTIME_SOCKET_DIR, readOnly: true },
      ...(o.functionCaDir === undefined ? [] : [{ hostPath: o.functionCaDir, containerPath: CONTAINER_CA_DIR, readOnly: true }]),
      ...(o.hostsFile === undefined || shape.network === 'none' ? [] : [{ hostPath: o.hostsFile, containerPath: '/etc/hosts', readOnly: true }]),
    ],
  };
}

export function lambdaEnvironment(v: FunctionVersion, o: Omit<IsolationOptions, 'codeDir' | 'image'>): Record<string, string> {
  // Lambda's unreserved defaults: a function may override these with its own variables.
  const defaults: Record<string, string> = {
    LANG: 'en_US.UTF-8',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    ...runtimePaths(v.runtime),
  };
  const reserved: Record<string, string> = {
    _HANDLER: v.handler,
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    LAMBDA_TASK_ROOT: TASK_ROOT,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    AWS_LAMBDA_FUNCTION_NAME: v.name,
    AWS_LAMBDA_FUNCTION_VERSION: v.executedVersion ?? '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(v.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${v.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${logStreamDate(o.nowMs)}/[${v.executedVersion ?? '$LATEST'}]${o.streamId}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: o.initializationType ?? 'on-demand',
    AWS_REGION: o.region,
    AWS_DEFAULT_REGION: o.region,
    TZ: ':UTC',
    ...executionEnv(v.runtime),
  };
  // Reserved keys win over the function's own (the admin API refuses them anyway).
  return { ...defaults, ...v.environment, ...o.platformEnvironment, ...reserved };
}

/** AWS_EXECUTION_ENV, which `provided` runtimes do not get (compat.md §1.4). */
function executionEnv(runtime: string): Record<string, string> {
  if (runtime.startsWith('nodejs')) return { AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}.x` };
  if (runtime.startsWith('provided')) return {};
  return { AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}` };
}

function runtimePaths(runtime: string): Record<string, string> {
  const path = '/usr/local/bin:/usr/bin/:/bin:/opt/bin';
  if (runtime.startsWith('nodejs')) {
    return {
      PATH: path,
      // Lambda's layer path per Node line: /opt/nodejs/node22/node_modules for nodejs22.
      NODE_PATH: `/opt/nodejs/node${runtime.slice('nodejs'.length)}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
      LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
    };
  }
  if (runtime.startsWith('python')) {
    return {
      PATH: path,
      PYTHONPATH: '/var/runtime',
      LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
    };
  }
  if (runtime.startsWith('ruby')) {
    // Lambda's Ruby layout: gems vendored in the zip (vendor/bundle) and in layers on GEM_PATH.
    const abi = `${runtime.slice('ruby'.length)}.0`;
    return {
      PATH: path,
      GEM_HOME: '/var/runtime',
      GEM_PATH: `/var/task/vendor/bundle/ruby/${abi}:/opt/ruby/gems/${abi}:/var/runtime:/var/runtime/ruby/${abi}`,
      RUBYLIB: '/var/task:/var/runtime/lib:/opt/ruby/lib',
      LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
    };
  }
  return { PATH: path, LD_LIBRARY_PATH: '/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' };
}

function logStreamDate(nowMs: number): string {
  const d = new Date(nowMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}
