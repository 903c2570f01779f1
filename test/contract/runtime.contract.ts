/**
 * The runtime conformance suite (style.md lesson 11): the contract every runtime image must meet,
 * run through the real control plane (startStack: real Docker, Postgres, Redis) by one test file
 * per runtime with that runtime's fixture function. Adding a runtime means passing this suite.
 *
 * A fixture is one zip with a handler per case, each behaving as described on ContractCase. The
 * runtime-specific facts (error type names, where the stack trace goes, AWS_EXECUTION_ENV, whether
 * results may be raw bytes) are declared by the fixture; everything else is the same for all.
 *
 * Output: everything an invocation printed to stdout and stderr is stored for that invocation
 * (GET /v1/functions/{name}/logs?invocationId=…), which needs the runtime to flush before it
 * posts its result, and the process keeps serving.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { deployFunction, eventually, startStack, type Stack } from '../support/stack.js';

/**
 * What each handler does:
 * - echo: returns the event unchanged;
 * - counter: returns {n, pid}, n counting the invocations this process has served;
 * - context: returns {requestId, functionName, functionVersion, memoryLimitInMB (a string),
 *   invokedFunctionArn, logGroupName, logStreamName, remainingMs} from the runtime's context;
 * - env: returns {env: <the whole environment>, cwd, uid};
 * - fail: fails with errorMessage "contract failure" when the event is {"fail": true}, else {ok: true};
 * - sleep: sleeps 30 s when the event is {"sleep": true}, else returns {slept: false};
 * - big: returns a JSON string of event.bytes `x` characters;
 * - binary: returns bytes 0..255 four times as raw bytes ('raw'), or, where the runtime only posts
 *   JSON, the JSON string of U+0000..U+00FF followed by U+2028 U+2029 U+D7FF U+E000 U+FFFF U+1F600 ('json');
 * - print: writes "stdout <event.marker>" to stdout and "stderr <event.marker>" to stderr, returns {printed: true};
 * - initError: a handler whose initialization fails.
 */
export type ContractCase = 'echo' | 'counter' | 'context' | 'env' | 'fail' | 'sleep' | 'big' | 'binary' | 'print' | 'initError';

export interface RuntimeFixture {
  /** The runtime id the functions are created with. */
  readonly runtime: string;
  readonly code: Buffer;
  /** The function's handler string per case. */
  readonly handlers: Readonly<Record<ContractCase, string>>;
  /** errorType of the `fail` handler's error. */
  readonly failErrorType: string;
  /** The error document's stack trace key ('trace' for Node, 'stackTrace' for Python), if any. */
  readonly traceKey?: 'trace' | 'stackTrace';
  readonly initErrorType: string;
  /** AWS_EXECUTION_ENV the function must see; undefined: must not be set (provided). */
  readonly executionEnv: string | undefined;
  readonly binary: 'raw' | 'json';
  /** The version GET /v1/runtimes must report for the runtime (its image's label). */
  readonly version: RegExp;
  /** The runtime's client can be started as a stem cell (it asks for its function first). */
  readonly stemCells?: boolean;
  /** Lambda's name for the runtime, where it differs from the id (nodejs22.x): accepted, stored as the id. */
  readonly awsName?: string;
}

const MEMORY_MB = 256;
/** Generous: 6 MB through a bash bootstrap on a busy 2-core machine takes seconds. */
const DEFAULT_TIMEOUT_MS = 30_000;
const REGION = 'us-east-1';
/** The synchronous payload limit (api.md): the largest event and result a runtime must carry. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const MAX_RESPONSE_BYTES = 6_291_556;

export const BINARY_RAW = Buffer.concat(Array.from({ length: 4 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i))));
export const BINARY_JSON = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('') + '\u2028\u2029\ud7ff\ue000\uffff\u{1f600}';

interface Invoked {
  readonly status: number;
  readonly headers: Headers;
  readonly raw: Buffer;
  readonly json: any;
}

export async function runtimeContract(t: Test, fixture: RuntimeFixture): Promise<void> {
  // One stem cell of this runtime only (at the stem cells' default size, which the cases below
  // do not use), so the other cases see plain container starts.
  const stemCells = fixture.stemCells === true ? { GANTRY_STEM_CELL_RUNTIMES: fixture.runtime, GANTRY_STEM_CELLS_PER_RUNTIME: '1' } : { GANTRY_STEM_CELLS_PER_RUNTIME: '0' };
  const stack = await startStack(t, { env: stemCells });
  const suffix = randomBytes(3).toString('hex');
  const created = new Set<string>();

  /** The function for a case, created once per (case, timeout). */
  const fn = async (t: Test, c: ContractCase, extra: Record<string, unknown> = {}): Promise<string> => {
    const name = `${c}-${suffix}${extra.timeoutMs === undefined ? '' : `-t${String(extra.timeoutMs)}`}${extra.memoryMb === undefined ? '' : `-m${String(extra.memoryMb)}`}`;
    if (created.has(name)) return name;
    await deployFunction(t, stack, name, fixture.code, {
      runtime: fixture.runtime,
      handler: fixture.handlers[c],
      memoryMb: MEMORY_MB,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      environment: { CONTRACT_VAR: 'from the function configuration' },
      ...extra,
    });
    created.add(name);
    return name;
  };
  const invoke = async (name: string, event: unknown): Promise<Invoked> => {
    const res = await stack.admin('POST', `/v1/functions/${name}/invoke`, event);
    const raw = Buffer.from(await res.arrayBuffer());
    let json: any;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, raw, json };
  };
  /** Failed environments are removed in the background; wait (bounded) until none is left. */
  const gone = (name: string) => eventually(async () => (await stack.containers()).every((c) => c.Labels['gantry.function'] !== name), 10_000);
  const ok = (t: Test, r: Invoked, what: string) => {
    t.equal(r.status, 200, `${what}: status`);
    t.equal(r.headers.get('x-gantry-function-error'), null, `${what}: no function error (${r.raw.toString('utf8', 0, 300)})`);
  };

  await t.test('GET /v1/runtimes lists the runtime with the version its image reports', async (t) => {
    const res = await stack.admin('GET', '/v1/runtimes');
    t.equal(res.status, 200);
    const { runtimes } = (await res.json()) as { runtimes: { id: string; image: string; version: string }[] };
    const entry = runtimes.find((r) => r.id === fixture.runtime);
    t.ok(entry, `${fixture.runtime} is listed: ${JSON.stringify(runtimes)}`);
    t.equal(entry?.image, `gantry/${fixture.runtime}:latest`);
    t.match(entry?.version, fixture.version);
  });

  await t.test('event in, result out: the event reaches the handler and its result comes back unchanged', async (t) => {
    const name = await fn(t, 'echo');
    const event = { text: 'héllo wörld ✓ 😀', quote: '"\\/', n: -12.5e-3, big: 9007199254740991, list: [1, null, true, false, {}], nested: { a: { b: [] } } };
    const r = await invoke(name, event);
    ok(t, r, 'echo');
    t.same(r.json, event);
    t.match(r.headers.get('content-type'), /^application\/json/);
    t.equal(r.headers.get('x-gantry-cold-start'), 'true');
  });

  await t.test('a second invocation reuses the process', async (t) => {
    const name = await fn(t, 'counter');
    const first = await invoke(name, {});
    const second = await invoke(name, {});
    ok(t, first, 'first');
    ok(t, second, 'second');
    t.equal(first.headers.get('x-gantry-cold-start'), 'true');
    t.equal(second.headers.get('x-gantry-cold-start'), 'false');
    t.equal(first.json.n, 1);
    t.equal(second.json.n, 2, 'state kept between invocations');
    t.equal(second.json.pid, first.json.pid, 'same process');
  });

  await t.test('context: request id, function name and version, memory, ARN, log names, remaining time', async (t) => {
    const name = await fn(t, 'context', { timeoutMs: 5_000 });
    const r = await invoke(name, {});
    ok(t, r, 'context');
    const c = r.json;
    t.equal(c.requestId, r.headers.get('x-gantry-invocation-id'), 'the request id is the invocation id');
    t.equal(c.functionName, name);
    t.equal(c.functionVersion, '$LATEST');
    t.equal(c.memoryLimitInMB, String(MEMORY_MB), 'memory as a string');
    t.equal(c.invokedFunctionArn, `arn:aws:lambda:${REGION}:000000000000:function:${name}`);
    t.equal(c.logGroupName, `/aws/lambda/${name}`);
    t.match(c.logStreamName, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    t.ok(c.remainingMs > 0 && c.remainingMs <= 5_000, `remaining time ${c.remainingMs} ms within the 5 s timeout`);
  });

  await t.test('environment: Lambda variables (compat.md 1.4), the function\'s own, nothing of Gantry\'s', async (t) => {
    const name = await fn(t, 'env');
    const r = await invoke(name, {});
    ok(t, r, 'env');
    const env = r.json.env as Record<string, string>;
    t.match(env, {
      _HANDLER: fixture.handlers.env,
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(MEMORY_MB),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      PATH: /(^|:)\/usr\/bin\/?(:|$)/,
      LD_LIBRARY_PATH: /\/var\/task/,
      CONTRACT_VAR: 'from the function configuration',
    });
    t.equal(env.AWS_EXECUTION_ENV, fixture.executionEnv, 'AWS_EXECUTION_ENV (unset for provided)');
    t.same(Object.keys(env).filter((k) => k.startsWith('GANTRY_') || k === 'DATABASE_URL' || k === 'REDIS_URL'), [], 'no Gantry configuration');
    // Issue 15 §4: the function's own short-lived credentials, and no other secret.
    t.same(Object.keys(env).filter((k) => k.startsWith('AWS_') && /KEY|TOKEN|SECRET/.test(k)).sort(), ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'], 'only the function credentials');
    t.match(env.AWS_ACCESS_KEY_ID, /^ASIA[A-Z2-7]{16}$/, 'a temporary key id, as AWS gives functions');
    t.equal(r.json.cwd, '/var/task');
    t.equal(r.json.uid, 993, 'runs as the sandbox user, not root');
  });

  await t.test('errors: a failure is Unhandled with the runtime\'s error document, and the process goes on', async (t) => {
    const name = await fn(t, 'fail');
    const r = await invoke(name, { fail: true });
    t.equal(r.status, 200);
    t.equal(r.headers.get('x-gantry-function-error'), 'Unhandled');
    t.match(r.headers.get('content-type'), /^application\/json/);
    t.equal(r.json.errorType, fixture.failErrorType);
    t.equal(r.json.errorMessage, 'contract failure');
    if (fixture.traceKey !== undefined) t.ok(Array.isArray(r.json[fixture.traceKey]) && r.json[fixture.traceKey].length > 0, `${fixture.traceKey} holds the stack`);
    const next = await invoke(name, { fail: false });
    ok(t, next, 'after the failure');
    t.same(next.json, { ok: true });
    t.equal(next.headers.get('x-gantry-cold-start'), 'false', 'the same environment served it');
  });

  await t.test('init errors are reported to the caller, on every invocation', async (t) => {
    const name = await fn(t, 'initError');
    for (const attempt of [1, 2]) {
      const r = await invoke(name, {});
      t.equal(r.headers.get('x-gantry-function-error'), 'Unhandled', `attempt ${attempt}`);
      t.equal(r.json?.errorType, fixture.initErrorType, `attempt ${attempt}: ${r.raw.toString('utf8', 0, 300)}`);
    }
    t.ok(await gone(name), 'the failed environments are removed');
  });

  await t.test('timeouts: Sandbox.Timedout, billed at most the timeout, then a fresh environment', async (t) => {
    const name = await fn(t, 'sleep', { timeoutMs: 1_000 });
    const r = await invoke(name, { sleep: true });
    const timedOut = r.headers.get('x-gantry-environment-id');
    t.ok(timedOut, 'the answer names the environment that ran it');
    t.equal(r.headers.get('x-gantry-function-error'), 'Unhandled');
    t.equal(r.json.errorType, 'Sandbox.Timedout');
    t.match(r.json.errorMessage, /Task timed out after 1\.00 seconds$/);
    t.ok(Number(r.headers.get('x-gantry-billed-duration-ms')) <= 1_000, 'billed no more than the timeout');
    const next = await invoke(name, {});
    ok(t, next, 'after the timeout');
    t.same(next.json, { slept: false });
    t.equal(next.headers.get('x-gantry-cold-start'), 'true', 'the timed-out environment was replaced');
    t.not(next.headers.get('x-gantry-environment-id'), timedOut, 'by another environment');
    // By environment, not function label: a specialised stem cell keeps the labels it was created with.
    const gone = async () => !(await stack.containers()).some((c) => c.Labels['gantry.environment'] === timedOut);
    t.ok(await eventually(gone, 30_000), 'the timed-out container is removed');
  });

  await t.test('large payloads: a 6 MB event comes back whole; a result over the limit is Function.ResponseSizeTooLarge', async (t) => {
    const name = await fn(t, 'echo');
    const event = { data: 'a'.repeat(MAX_PAYLOAD_BYTES - 100) };
    const r = await invoke(name, event);
    ok(t, r, '6 MB echo');
    t.ok(r.raw.length >= MAX_PAYLOAD_BYTES - 100 && r.raw.length <= MAX_RESPONSE_BYTES, `result of ${r.raw.length} bytes`);
    t.equal(r.json?.data?.length, event.data.length);
    t.ok(r.json?.data === event.data, 'every byte survived');
    const big = await fn(t, 'big');
    const over = await invoke(big, { bytes: 7_000_000 });
    t.equal(over.headers.get('x-gantry-function-error'), 'Unhandled');
    t.equal(over.json.errorType, 'Function.ResponseSizeTooLarge');
    const after = await invoke(big, { bytes: 10 });
    ok(t, after, 'after the oversized result');
    t.equal(after.json, 'xxxxxxxxxx');
  });

  await t.test('binary-safe output', async (t) => {
    const name = await fn(t, 'binary');
    const r = await invoke(name, {});
    ok(t, r, 'binary');
    if (fixture.binary === 'raw') {
      t.equal(r.headers.get('content-type'), 'application/octet-stream');
      t.ok(r.raw.equals(BINARY_RAW), 'every byte value, unchanged');
    } else {
      t.match(r.headers.get('content-type'), /^application\/json/);
      t.ok(r.json === BINARY_JSON, 'every code point, unchanged');
    }
  });

  await t.test('output: what an invocation printed is attributed to it, and the process goes on', async (t) => {
    const name = await fn(t, 'print');
    const marker = `m${randomBytes(6).toString('hex')}`;
    const r = await invoke(name, { marker });
    ok(t, r, 'print');
    t.same(r.json, { printed: true });
    const id = r.headers.get('x-gantry-invocation-id') as string;
    type Line = { invocationId: string; stream: string; message: string };
    const lines = async () =>
      ((await (await stack.admin('GET', `/v1/functions/${name}/logs?invocationId=${id}`)).json()) as { lines: Line[] }).lines;
    const found = await eventually(async () => {
      const l = await lines();
      return l.some((x) => x.stream === 'stdout' && x.message === `stdout ${marker}`) && l.some((x) => x.stream === 'stderr' && x.message === `stderr ${marker}`);
    }, 5_000);
    t.ok(found, `stdout and stderr lines stored for the invocation: ${JSON.stringify((await lines()).slice(-6))}`);
    t.ok((await lines()).every((x) => x.invocationId === id), 'attributed to that invocation only');
    const again = await invoke(name, { marker });
    t.equal(again.headers.get('x-gantry-cold-start'), 'false', 'without the process exiting');
  });

  if (fixture.stemCells === true) {
    await t.test('a prewarmed stem cell serves the first call, as the function it becomes', async (t) => {
      const cells = async () => {
        const text = await (await fetch(`${stack.controlPlaneUrl}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`gantry_stem_cells{runtime="${fixture.runtime}"}`));
        return Number(line?.split(' ')[1] ?? 0);
      };
      t.ok(await eventually(async () => (await cells()) >= 1, 60_000), `a ${fixture.runtime} stem cell is ready`);
      const name = await fn(t, 'context', { memoryMb: 128 });
      const r = await invoke(name, {});
      ok(t, r, 'context');
      t.equal(r.headers.get('x-gantry-cold-start-kind'), 'stem-cell');
      t.equal(r.json.functionName, name);
      t.equal(r.json.memoryLimitInMB, '128');
    });
  }

  const awsName = fixture.awsName;
  if (awsName !== undefined) {
    await t.test(`a function created with Lambda's name ${awsName} runs on ${fixture.runtime}`, async (t) => {
      const name = `aws-name-${suffix}`;
      const created = await deployFunction(t, stack, name, fixture.code, { runtime: awsName, handler: fixture.handlers.env });
      t.equal(created.runtime, fixture.runtime);
      const r = await invoke(name, {});
      ok(t, r, 'env');
      t.equal(r.json.env.AWS_EXECUTION_ENV, fixture.executionEnv);
    });
  }
}

