import t from 'tap';
import type { FunctionId, FunctionVersion, TenantId, VersionId } from '../../../../control-plane/functions/function-types.js';
import { RESERVED_ENV_KEYS } from '../../../../control-plane/functions/lambda-contract.js';
import {
  buildContainerSpec,
  buildStemCellSpec,
  lambdaEnvironment,
  type IsolationOptions,
} from '../../../../control-plane/scheduler/isolation.js';

const STREAM = '0123456789abcdef0123456789abcdef';

function aVersion(over: Partial<FunctionVersion> = {}): FunctionVersion {
  return {
    tenantId: 'default' as TenantId,
    functionId: 'fn-1' as FunctionId,
    versionId: 7 as VersionId,
    name: 'pets',
    runtime: 'nodejs20',
    handler: 'index.handler',
    memoryMb: 128,
    timeoutMs: 3000,
    environment: {},
    network: 'default',
    codeSha256: 'abc',
    codeSize: 10,
    ...over,
  };
}

function options(over: Partial<IsolationOptions> = {}): IsolationOptions {
  return {
    image: 'gantry/nodejs20:latest',
    nodeId: 'node-a',
    region: 'eu-west-1',
    user: '993:993',
    functionNetwork: 'gantry-functions',
    codeDir: '/data/code/abc',
    socketDir: '/data/containers/node-a/env1/runtime',
    environmentId: 'env1',
    nowMs: Date.UTC(2025, 0, 5, 12, 0, 0),
    streamId: STREAM,
    ...over,
  };
}

const LD_PATH = '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib';
const NODE_ENV = {
  _HANDLER: 'index.handler',
  AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
  LAMBDA_TASK_ROOT: '/var/task',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
  AWS_LAMBDA_FUNCTION_NAME: 'pets',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/pets',
  AWS_LAMBDA_LOG_STREAM_NAME: `2025/01/05/[$LATEST]${STREAM}`,
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  TZ: ':UTC',
  LANG: 'en_US.UTF-8',
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
  PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  NODE_PATH: '/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task',
  LD_LIBRARY_PATH: LD_PATH,
};

t.test('gives a nodejs20 function exactly the compat.md §1.4 environment', async (t) => {
  t.strictSame(lambdaEnvironment(aVersion(), options()), NODE_ENV);
});

const execEnvCases: readonly [string, string | undefined][] = [
  ['nodejs20', 'AWS_Lambda_nodejs20.x'],
  ['python3.11', 'AWS_Lambda_python3.11'],
  ['ruby3.3', 'AWS_Lambda_ruby3.3'],
  ['java21', 'AWS_Lambda_java21'],
  ['provided', undefined],
  ['provided.al2023', undefined],
];
for (const [runtime, want] of execEnvCases) {
  t.test(`sets AWS_EXECUTION_ENV to ${want ?? 'nothing'} for ${runtime}`, async (t) => {
    const env = lambdaEnvironment(aVersion({ runtime }), options());
    t.equal(env.AWS_EXECUTION_ENV, want);
    t.equal(Object.hasOwn(env, 'AWS_EXECUTION_ENV'), want !== undefined);
  });
}

t.test('gives python its PYTHONPATH and no NODE_PATH', async (t) => {
  const env = lambdaEnvironment(aVersion({ runtime: 'python3.11' }), options());
  t.equal(env.PYTHONPATH, '/var/runtime');
  t.equal(env.NODE_PATH, undefined);
});

t.test("gives ruby Lambda's GEM_PATH and RUBYLIB, and no PYTHONPATH", async (t) => {
  const env = lambdaEnvironment(aVersion({ runtime: 'ruby3.3' }), options());
  t.equal(env.GEM_PATH, '/var/task/vendor/bundle/ruby/3.3.0:/opt/ruby/gems/3.3.0:/var/runtime:/var/runtime/ruby/3.3.0');
  t.equal(env.GEM_HOME, '/var/runtime');
  t.equal(env.RUBYLIB, '/var/task:/var/runtime/lib:/opt/ruby/lib');
  t.equal(env.PYTHONPATH, undefined);
});

t.test('includes the function variables', async (t) => {
  const env = lambdaEnvironment(aVersion({ environment: { TABLE: 'pets', DEBUG: '1' } }), options());
  t.equal(env.TABLE, 'pets');
  t.equal(env.DEBUG, '1');
});

t.test('adds the platform variables of a function behind a websocket API, over its own', async (t) => {
  const platform = { GANTRY_CONNECTIONS_URL: 'http://172.18.0.1:8080/chat', GANTRY_CONNECTIONS_TOKEN: 'gct_x' };
  const env = lambdaEnvironment(aVersion({ environment: { TABLE: 'pets', GANTRY_CONNECTIONS_URL: 'mine' } }), { ...options(), platformEnvironment: platform });
  t.equal(env.GANTRY_CONNECTIONS_URL, platform.GANTRY_CONNECTIONS_URL);
  t.equal(env.GANTRY_CONNECTIONS_TOKEN, platform.GANTRY_CONNECTIONS_TOKEN);
  t.equal(env.TABLE, 'pets');
  t.equal(lambdaEnvironment(aVersion(), options()).GANTRY_CONNECTIONS_URL, undefined, 'none without a websocket API');
  t.ok(RESERVED_ENV_KEYS.has('GANTRY_CONNECTIONS_TOKEN'), 'functions cannot set them');
});

t.test('never lets a function variable override a reserved one', async (t) => {
  const hostile = Object.fromEntries([...RESERVED_ENV_KEYS].map((k) => [k, 'evil']));
  const env = lambdaEnvironment(aVersion({ environment: hostile }), options());
  const reservedSet = Object.entries(NODE_ENV).filter(([k]) => RESERVED_ENV_KEYS.has(k));
  t.equal(reservedSet.length, 14);
  for (const [k, v] of reservedSet) t.equal(env[k], v, k);
});

// compat.md §1.4 lists LANG, PATH, LD_LIBRARY_PATH, NODE_PATH, PYTHONPATH and AWS_XRAY_CONTEXT_MISSING
// as unreserved: the admin API accepts them, so the function's value must reach the runtime.
for (const key of ['LANG', 'PATH', 'LD_LIBRARY_PATH', 'NODE_PATH', 'AWS_XRAY_CONTEXT_MISSING']) {
  t.test(`lets a function set the unreserved variable ${key}`, async (t) => {
    t.equal(RESERVED_ENV_KEYS.has(key), false);
    const env = lambdaEnvironment(aVersion({ environment: { [key]: 'mine' } }), options());
    t.equal(env[key], 'mine');
  });
}

t.test('passes nothing from the host environment', async (t) => {
  const saved = { ...process.env };
  t.teardown(() => {
    for (const k of ['NODE_EXTRA_CA_CERTS', 'GANTRY_ADMIN_TOKEN', 'DATABASE_URL']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  process.env.NODE_EXTRA_CA_CERTS = '/etc/host/ca.pem';
  process.env.GANTRY_ADMIN_TOKEN = 'host-secret';
  process.env.DATABASE_URL = 'postgres://host';
  const spec = buildContainerSpec(aVersion({ environment: { TABLE: 'pets' } }), options());
  t.strictSame(spec.env, { TABLE: 'pets', ...NODE_ENV });
  t.notMatch(JSON.stringify(buildStemCellSpec({ runtime: 'nodejs20', memoryMb: 128, network: 'default' }, options())), /host-secret|\/etc\/host\/ca\.pem|postgres:\/\/host/);
  t.notMatch(JSON.stringify(spec), /host-secret|\/etc\/host\/ca\.pem|postgres:\/\/host/);
});

const streamDates: readonly [string, number, string][] = [
  ['the first of the month', Date.UTC(2025, 2, 1, 0, 0, 0), '2025/03/01'],
  ['the last instant of a UTC day', Date.UTC(2024, 11, 31, 23, 59, 59, 999), '2024/12/31'],
  ['a two-digit month and day', Date.UTC(2026, 10, 23, 8, 0, 0), '2026/11/23'],
];
for (const [what, nowMs, date] of streamDates) {
  t.test(`names the log stream YYYY/MM/DD/[$LATEST]<32 hex> on ${what}`, async (t) => {
    const name = lambdaEnvironment(aVersion(), options({ nowMs })).AWS_LAMBDA_LOG_STREAM_NAME;
    t.equal(name, `${date}/[$LATEST]${STREAM}`);
    t.match(name, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  });
}

const cpuCases: readonly [number, number][] = [
  [1, 2],
  [3, 2],
  [5, 3],
  [128, 74],
  [1769, 1024],
  [3538, 2048],
  [10240, 5928],
];
for (const [memoryMb, cpuShares] of cpuCases) {
  t.test(`limits a ${memoryMb} MB function to ${cpuShares} CPU shares, 128 pids and a 512 MB tmpfs`, async (t) => {
    t.strictSame(buildContainerSpec(aVersion({ memoryMb }), options()).limits, { memoryMb, cpuShares, pids: 128, tmpfsMb: 512 });
  });
}

t.test('gives a network: none function no network', async (t) => {
  t.strictSame(buildContainerSpec(aVersion({ network: 'none' }), options()).network, { mode: 'none' });
});

t.test('puts a default-network function on the named function network', async (t) => {
  t.strictSame(buildContainerSpec(aVersion(), options()).network, { mode: 'network', name: 'gantry-functions' });
});

t.test('mounts the code and the runtime socket directory read-only', async (t) => {
  t.strictSame(buildContainerSpec(aVersion(), options()).mounts, [
    { hostPath: '/data/code/abc', containerPath: '/var/task', readOnly: true },
    { hostPath: '/data/containers/node-a/env1/runtime', containerPath: '/run/gantry', readOnly: true },
  ]);
});

t.test('labels the container as managed by this node, for this function version', async (t) => {
  t.strictSame(buildContainerSpec(aVersion(), options()).labels, {
    'gantry.managed': 'true',
    'gantry.node': 'node-a',
    'gantry.runtime': 'nodejs20',
    'gantry.function': 'pets',
    'gantry.function-id': 'fn-1',
    'gantry.version': '7',
    'gantry.environment': 'env1',
  });
});

t.test('runs the image as the configured non-root user', async (t) => {
  const spec = buildContainerSpec(aVersion(), options());
  t.equal(spec.image, 'gantry/nodejs20:latest');
  t.equal(spec.user, '993:993');
});

t.test('names the container after node and environment, with unsafe characters replaced', async (t) => {
  t.equal(buildContainerSpec(aVersion(), options()).name, 'gantry-node-a-env1');
  t.equal(buildContainerSpec(aVersion(), options({ nodeId: 'host a/1:x' })).name, 'gantry-host-a-1-x-env1');
});

t.test('initialises a provisioned environment with AWS_LAMBDA_INITIALIZATION_TYPE provisioned-concurrency', async (t) => {
  t.equal(buildContainerSpec(aVersion(), options({ initializationType: 'provisioned-concurrency' })).env.AWS_LAMBDA_INITIALIZATION_TYPE, 'provisioned-concurrency');
});

const CELL_KEY = { runtime: 'nodejs20', memoryMb: 128, network: 'default' } as const;
const cellOptions = () => options({ codeDir: '/data/containers/node-a/env1/task' });

t.test('gives a stem cell only what every function of its runtime shares: no handler, no function name, no function variable', async (t) => {
  t.strictSame(buildStemCellSpec(CELL_KEY, cellOptions()).env, {
    PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    NODE_PATH: NODE_ENV.NODE_PATH,
    LD_LIBRARY_PATH: LD_PATH,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
  });
});

t.test("mounts a stem cell's own task directory and socket directory read-only", async (t) => {
  t.strictSame(buildStemCellSpec(CELL_KEY, cellOptions()).mounts, [
    { hostPath: '/data/containers/node-a/env1/task', containerPath: '/var/task', readOnly: true },
    { hostPath: '/data/containers/node-a/env1/runtime', containerPath: '/run/gantry', readOnly: true },
  ]);
});

t.test('labels a stem cell as one, with its runtime and no function', async (t) => {
  t.strictSame(buildStemCellSpec(CELL_KEY, cellOptions()).labels, {
    'gantry.managed': 'true',
    'gantry.node': 'node-a',
    'gantry.environment': 'env1',
    'gantry.runtime': 'nodejs20',
    'gantry.stem-cell': 'true',
  });
});

const cellShapes: readonly [{ runtime: string; memoryMb: number; network: 'default' | 'none' }, number, { mode: 'none' } | { mode: 'network'; name: string }][] = [
  [CELL_KEY, 74, { mode: 'network', name: 'gantry-functions' }],
  [{ runtime: 'python3.11', memoryMb: 1769, network: 'none' }, 1024, { mode: 'none' }],
];
for (const [key, cpuShares, network] of cellShapes) {
  t.test(`gives a ${key.runtime}/${key.memoryMb}/${key.network} stem cell the limits and network of that shape, as a function of it would get`, async (t) => {
    const cell = buildStemCellSpec(key, cellOptions());
    const fnSpec = buildContainerSpec(aVersion(key), options());
    t.strictSame(cell.limits, { memoryMb: key.memoryMb, cpuShares, pids: 128, tmpfsMb: 512 });
    t.strictSame(cell.limits, fnSpec.limits);
    t.strictSame(cell.network, network);
    t.strictSame(cell.network, fnSpec.network);
    t.equal(cell.user, fnSpec.user);
    t.equal(cell.image, fnSpec.image);
  });
}

t.test("a stem cell's environment plus the specialisation environment is the function's environment", async (t) => {
  const v = aVersion({ environment: { TABLE: 'pets' } });
  const cell = buildStemCellSpec(CELL_KEY, cellOptions());
  t.strictSame({ ...cell.env, ...lambdaEnvironment(v, options()) }, buildContainerSpec(v, options()).env);
});
