// The python3.11 runtime client (runtime-images/python/runtime/) inside the BUILT
// gantry/python3.11 image, run as the control plane runs it (test/support/runtime-container.ts),
// against a fake Runtime API: handler strings, the context, error shapes, init errors,
// marshalling and output. The platform-level contract is test/contract/runtime.contract.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { imageLabels, requireImage, startRuntimeContainer } from '../support/runtime-container.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.resolve(here, '../fixtures/functions/python3.11/client');
const IMAGE = process.env.GANTRY_PYTHON311_IMAGE ?? 'gantry/python3.11:latest';
const WAIT_MS = 20_000;

async function start(t: Test, handler: string) {
  if (!(await requireImage(t, IMAGE))) throw new Error(`${IMAGE} missing`);
  return startRuntimeContainer(t, { image: IMAGE, taskDir: FIXTURE, handler, testLabel: 'runtime-python3.11-image' });
}

/** Waits (bounded) until `text` shows up in the output read so far from `docker run`'s pipes. */
async function outputContains(read: () => string, text: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!read().includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

interface PyError {
  errorMessage: string;
  errorType: string;
  requestId: string;
  stackTrace: string[];
}

/** Start a handler that must fail to load; returns the init error and the exit code. */
async function initFailure(t: Test, handler: string): Promise<{ error: PyError; code: number | null; stdout: string }> {
  const c = await start(t, handler);
  const post = await c.api.waitForInitError(WAIT_MS);
  t.equal(post.headers['lambda-runtime-function-error-type'], (post.json as PyError).errorType, 'the header names the error type');
  const code = await c.exited;
  return { error: post.json as PyError, code, stdout: c.stdout() };
}

t.test('echoes the event with Content-Type application/json, ASCII-escaped like the RIC', async (t) => {
  const c = await start(t, 'app.echo');
  const event = { hello: 'wörld', n: 1.5, list: [1, null, true], nested: { emoji: '😀' } };
  const res = await c.api.invoke(event, {}, WAIT_MS);
  t.equal(res.kind, 'response');
  t.same(res.json, event);
  t.equal(res.headers['content-type'], 'application/json');
  t.match(res.body, /w\\u00f6rld/, 'non-ASCII is escaped (python3.11 RIC encoder)');
  t.equal(c.stdout(), '', 'the runtime prints nothing of its own');
});

t.test('context carries the environment and the next headers; two invocations share the process', async (t) => {
  const c = await start(t, 'app.context_info');
  const deadlineMs = Date.now() + 5_000;
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:image-test:live';
  const res = await c.api.invoke(
    {},
    {
      requestId: 'py-ctx-1',
      deadlineMs,
      invokedFunctionArn: arn,
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
      clientContext: JSON.stringify({ custom: { k: 'v' }, env: {}, client: { installation_id: 'inst-1' } }),
      cognitoIdentity: JSON.stringify({ cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' }),
    },
    WAIT_MS,
  );
  t.equal(res.kind, 'response', c.logs());
  const first = res.json as Record<string, any>;
  t.match(first, {
    aws_request_id: 'py-ctx-1',
    function_name: 'image-test',
    function_version: '$LATEST',
    memory_limit_in_mb: '256',
    log_group_name: '/aws/lambda/image-test',
    log_stream_name: '2025/01/05/[$LATEST]0123456789abcdef0123456789abcdef',
    invoked_function_arn: arn,
    cognito_identity_id: 'id-1',
    cognito_identity_pool_id: 'pool-1',
    client_context_custom: { k: 'v' },
    client_installation_id: 'inst-1',
    trace_id: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
    count: 1,
    uid: 993,
    gid: 993,
    cwd: '/var/task',
    python: /^3\.11\./,
    sys_path_0: '/var/task',
    env: {
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      PYTHONPATH: '/var/runtime',
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      AWS_EXECUTION_ENV: 'AWS_Lambda_python3.11',
      AWS_REGION: 'us-east-1',
    },
  });
  t.ok(first.remaining_before > 0 && first.remaining_before <= 5_000, `remaining ${first.remaining_before}`);
  t.ok(first.remaining_after <= first.remaining_before - 15, 'the remaining time shrinks');

  const second = (await c.api.invoke({}, { requestId: 'py-ctx-2', deadlineMs: Date.now() - 1_000 }, WAIT_MS)).json as Record<string, any>;
  t.equal(second.count, 2, 'module state survives between invocations');
  t.equal(second.pid, first.pid, 'same process');
  t.equal(second.trace_id, '<unset>', '_X_AMZN_TRACE_ID is removed when the header is absent');
  t.equal(second.client_context_custom, '<none>');
  t.equal(second.cognito_identity_id, null, 'identity exists with empty fields when the header is absent');
  t.equal(second.remaining_before, 0, 'never below 0 past the deadline');
});

t.test('handler strings: dotted package path, slash path, vendored dependency', async (t) => {
  const nested = await start(t, 'pkg.sub.mod.handler');
  t.same((await nested.api.invoke({}, {}, WAIT_MS)).json, { module: 'pkg.sub.mod' });
  const slash = await start(t, 'src/app.handler');
  t.same((await slash.api.invoke({}, {}, WAIT_MS)).json, { module: 'src.app' });
  const vendored = await start(t, 'uses_vendored.handler');
  t.same((await vendored.api.invoke({ name: 'gantry' }, {}, WAIT_MS)).json, {
    greeting: 'hello, gantry',
    version: '1.2.3',
    from: '/var/task/greeter/__init__.py',
  });
});

t.test('an exception is posted as {errorMessage, errorType, requestId, stackTrace} and logged', async (t) => {
  const c = await start(t, 'app.fail');
  const res = await c.api.invoke({}, { requestId: 'py-err' }, WAIT_MS);
  t.equal(res.kind, 'error');
  const e = res.json as PyError;
  t.equal(e.errorType, 'KeyError');
  t.equal(e.errorMessage, "'missing'");
  t.equal(e.requestId, 'py-err');
  t.equal(e.stackTrace.length, 1, 'only the handler frame, none of the runtime');
  t.match(e.stackTrace[0], /^ {2}File "\/var\/task\/app\.py", line \d+, in fail\n/);
  t.same(Object.keys(e), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
  t.equal(res.headers['lambda-runtime-function-error-type'], 'KeyError');
  await outputContains(() => c.stdout(), "[ERROR] KeyError: 'missing'");
  t.match(c.stdout(), /^\[ERROR\] KeyError: 'missing'\rTraceback \(most recent call last\):\r/m, 'the RIC text log record');
  await c.api.waitForPoll(WAIT_MS);
  t.equal((await c.api.invoke({ key: 'never' }, {}, WAIT_MS)).kind, 'response', 'the process serves the next invocation');
});

t.test('import errors are init errors: Runtime.ImportModuleError, posted to init/error, exit 1', async (t) => {
  const { error, code, stdout } = await initFailure(t, 'broken_import.handler');
  t.equal(error.errorType, 'Runtime.ImportModuleError');
  t.equal(error.errorMessage, "Unable to import module 'broken_import': No module named 'gantry_module_that_is_not_installed'");
  t.equal(error.requestId, '');
  t.same(error.stackTrace, []);
  t.equal(code, 1);
  t.match(stdout, /^\[ERROR\] Runtime\.ImportModuleError: Unable to import module/m);
});

t.test('other load failures have the RIC types and messages', async (t) => {
  const cases: [string, string, string | RegExp][] = [
    ['app', 'Runtime.MalformedHandlerName', "Bad handler 'app': not enough values to unpack (expected 2, got 1)"],
    ['app.nope', 'Runtime.HandlerNotFound', "Handler 'nope' missing on module 'app'"],
    ['missing_module.handler', 'Runtime.ImportModuleError', "Unable to import module 'missing_module': No module named 'missing_module'"],
    ['broken_syntax.handler', 'Runtime.UserCodeSyntaxError', /^Syntax error in module 'broken_syntax': expected ':' \(broken_syntax\.py, line 1\)$/],
    ['sys.handler', 'Runtime.BuiltInModuleConflict', 'Cannot use built-in module sys as a handler module'],
    ['raises_at_import.handler', 'RuntimeError', 'boom at import'],
  ];
  for (const [handler, errorType, message] of cases) {
    await t.test(handler, async (t) => {
      const { error, code } = await initFailure(t, handler);
      t.equal(error.errorType, errorType);
      t.match(error.errorMessage, message);
      t.equal(code, 1);
      if (errorType === 'RuntimeError') t.match(error.stackTrace.join(''), /raises_at_import\.py", line 1, in <module>/);
    });
  }
});

t.test('a bytes result is posted as is with Content-Type application/unknown', async (t) => {
  const c = await start(t, 'app.returns_bytes');
  const res = await c.api.invoke({}, {}, WAIT_MS);
  t.equal(res.kind, 'response');
  t.equal(res.headers['content-type'], 'application/unknown');
  t.same([...res.raw], Array.from({ length: 256 }, (_, i) => i));
});

t.test('results: a set is Runtime.MarshalError, Decimals are numbers', async (t) => {
  const bad = await start(t, 'app.returns_set');
  const res = await bad.api.invoke({}, {}, WAIT_MS);
  t.equal(res.kind, 'error');
  t.match(res.json, { errorType: 'Runtime.MarshalError', errorMessage: /^Unable to marshal response: Object of type set is not JSON serializable$/ });
  const dec = await start(t, 'app.returns_decimal');
  t.equal((await dec.api.invoke({}, {}, WAIT_MS)).body, '{"whole": 12, "half": 1.5, "text": "\\u00e9"}');
});

t.test('a body that is not JSON is Runtime.UnmarshalError', async (t) => {
  const c = await start(t, 'app.echo');
  const res = await c.api.invoke(undefined, { rawBody: '{not json' }, WAIT_MS);
  t.equal(res.kind, 'error');
  t.match(res.json, { errorType: 'Runtime.UnmarshalError', errorMessage: /^Unable to unmarshal input: / });
});

t.test('print, logging and stderr have left the process when the result is posted', async (t) => {
  const c = await start(t, 'app.logs');
  const res = await c.api.invoke({}, { requestId: 'py-log' }, WAIT_MS);
  t.equal(res.kind, 'response');
  // The container's output pipes are read asynchronously; the process must not hold anything back.
  await outputContains(() => c.stdout(), 'logged at info');
  await outputContains(() => c.stderr(), 'written to stderr');
  t.match(c.stdout(), 'printed to stdout\n');
  t.match(c.stdout(), /^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tpy-log\tlogged at info$/m, 'Lambda log format with the request id');
  t.match(c.stderr(), 'written to stderr\n');
  t.equal(c.api.pollPending || (await c.api.waitForPoll(WAIT_MS).then(() => true)), true, 'still running');
});

t.test('a handler attribute that is not callable fails at invoke with TypeError', async (t) => {
  const c = await start(t, 'app.not_callable');
  const res = await c.api.invoke({}, {}, WAIT_MS);
  t.match(res.json, { errorType: 'TypeError', errorMessage: "'int' object is not callable" });
});

t.test('sys.exit in a handler ends the process with its code', async (t) => {
  const c = await start(t, 'app.exits');
  c.api.queue({});
  t.equal(await c.exited, 3);
});

t.test('gantry/python3.11 image carries the runtime labels', async (t) => {
  if (!(await requireImage(t, IMAGE))) return;
  const labels = await imageLabels(IMAGE);
  t.equal(labels['gantry.runtime'], 'python3.11');
  t.match(labels['gantry.runtime.version'], /^3\.11\.\d+$/);
});
