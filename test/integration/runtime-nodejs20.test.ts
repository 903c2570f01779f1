// The nodejs20 runtime client (runtime-images/nodejs/runtime/bootstrap.mjs), run with the
// host's node as a child process against a fake Runtime API on a temp unix socket. Fast; no
// Docker. The same client runs inside the image (runtime-nodejs20-image.test.ts).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { FakeRuntimeApi } from '../support/fake-runtime-api.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const bootstrap = path.join(repoRoot, 'runtime-images/nodejs/runtime/bootstrap.mjs');
const fixtures = path.join(repoRoot, 'test/fixtures/functions');

const WAIT_MS = 10_000;

interface RunningRuntime {
  api: FakeRuntimeApi;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/**
 * The command that starts the runtime client. tap's processinfo plugin adds its --import hook to
 * NODE_OPTIONS of every child process, even with an explicit env; `env -u` drops it so the
 * runtime starts as bare as it does in the container.
 */
function runtimeCommand(socketPath: string): [string, string[]] {
  return ['/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, bootstrap, socketPath]];
}

/** Start bootstrap.mjs for fixture `name` with `_HANDLER = handler`; cleaned up by t.teardown. */
async function startRuntime(
  tt: Test,
  name: string,
  handler: string,
  extraEnv: Record<string, string> = {},
): Promise<RunningRuntime> {
  const api = await FakeRuntimeApi.start();
  tt.teardown(() => api.close());
  const [command, args] = runtimeCommand(api.socketPath);
  const child = spawn(command, args, {
    cwd: path.join(fixtures, name),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      _HANDLER: handler,
      LAMBDA_TASK_ROOT: path.join(fixtures, name),
      AWS_LAMBDA_FUNCTION_NAME: 'test-fn',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/test-fn',
      AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/05/[$LATEST]0123456789abcdef0123456789abcdef',
      AWS_REGION: 'us-east-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  tt.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { api, child, stdout: () => out, stderr: () => err, exited };
}

async function exitedWithin(rt: RunningRuntime, ms = WAIT_MS): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      rt.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`runtime did not exit within ${ms} ms; stderr: ${rt.stderr()}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

t.test('CommonJS async handler echoes the event with Content-Type application/json', async (t) => {
  const rt = await startRuntime(t, 'echo', 'index.handler');
  const event = { hello: 'world', n: 1, nested: { list: [1, 2, 3] } };
  const res = await rt.api.invoke(event);
  t.equal(res.kind, 'response');
  t.same(res.json, event);
  t.match(res.headers['content-type'], /^application\/json/);
  t.equal(rt.stdout(), '', 'the runtime prints nothing of its own to stdout');
});

t.test('two invocations run in one process, in order, each with its own request id', async (t) => {
  const rt = await startRuntime(t, 'context', 'index.handler');
  const first = await rt.api.invoke({ n: 1 }, { requestId: 'req-1' });
  const second = await rt.api.invoke({ n: 2 }, { requestId: 'req-2' });
  const a = first.json as Record<string, unknown>;
  const b = second.json as Record<string, unknown>;
  t.equal(a.awsRequestId, 'req-1');
  t.equal(b.awsRequestId, 'req-2');
  t.equal(a.pid, b.pid, 'same process');
  t.equal(a.invocationCount, 1);
  t.equal(b.invocationCount, 2, 'module state survives between invocations');
  await rt.api.waitForPoll();
  t.equal(rt.api.nextCalls, 3, 'polls next again after each invocation');
});

t.test('context carries the environment and the next headers', async (t) => {
  const rt = await startRuntime(t, 'context', 'index.handler');
  const deadlineMs = Date.now() + 5_000;
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:test-fn:live';
  const res = await rt.api.invoke(
    {},
    {
      requestId: 'ctx-req',
      deadlineMs,
      invokedFunctionArn: arn,
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      clientContext: JSON.stringify({ custom: { k: 'v' }, env: {}, client: {} }),
      cognitoIdentity: JSON.stringify({ cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' }),
    },
  );
  t.equal(res.kind, 'response');
  const c = res.json as Record<string, unknown>;
  t.match(c, {
    awsRequestId: 'ctx-req',
    functionName: 'test-fn',
    functionVersion: '$LATEST',
    memoryLimitInMB: '128',
    logGroupName: '/aws/lambda/test-fn',
    logStreamName: '2025/01/05/[$LATEST]0123456789abcdef0123456789abcdef',
    invokedFunctionArn: arn,
    identity: { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' },
    clientContext: { custom: { k: 'v' } },
    callbackWaitsForEmptyEventLoop: true,
    traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  });
  t.equal(typeof c.memoryLimitInMB, 'string', 'memoryLimitInMB is a string');
  const before = c.remainingBefore as number;
  const after = c.remainingAfter as number;
  t.ok(before > 0 && before <= 5_000, `remaining time is within the deadline (${before})`);
  t.ok(after < before && after >= before - 2_000, `remaining time counts down (${before} → ${after})`);

  // Without the optional headers: identity/clientContext undefined, trace id env deleted.
  const bare = (await rt.api.invoke({}, { requestId: 'ctx-bare' })).json as Record<string, unknown>;
  t.equal(bare.identity, '<undefined>');
  t.equal(bare.clientContext, '<undefined>');
  t.equal(bare.traceId, '<unset>', '_X_AMZN_TRACE_ID is deleted when the header is absent');
});

t.test('callback handler: response waits for the event loop to drain by default', async (t) => {
  const rt = await startRuntime(t, 'callback', 'index.handler');
  const res = await rt.api.invoke({ a: 1 });
  t.same(res.json, { style: 'callback', input: { a: 1 }, late: true });
});

t.test('callback handler: callbackWaitsForEmptyEventLoop = false responds at once', async (t) => {
  const rt = await startRuntime(t, 'callback', 'index.handler');
  const res = await rt.api.invoke({ noWait: true });
  t.same(res.json, { style: 'callback', input: { noWait: true }, late: false });
});

t.test('only the first completion of an invocation counts', async (t) => {
  const rt = await startRuntime(t, 'callback', 'index.twice');
  const id = rt.api.queue({});
  const res = await rt.api.waitForResult(id);
  t.same(res.json, { first: true });
  // A second invocation completes normally, so nothing extra was posted for the first.
  await rt.api.invoke({});
  t.equal(rt.api.posts.filter((p) => p.requestId === id).length, 1, 'one post for the invocation');
});

t.test('legacy context.succeed and context.done respond', async (t) => {
  const a = await startRuntime(t, 'callback', 'index.succeed');
  t.same((await a.api.invoke({})).json, { via: 'succeed' });
  const b = await startRuntime(t, 'callback', 'index.done');
  t.same((await b.api.invoke({})).json, { via: 'done' });
});

t.test('a sync handler that never calls back responds null once the loop drains', async (t) => {
  const rt = await startRuntime(t, 'errors', 'index.sync');
  const res = await rt.api.invoke({});
  t.equal(res.kind, 'response');
  t.equal(res.body, 'null');
});

t.test('ESM .mjs handler with top-level await', async (t) => {
  const rt = await startRuntime(t, 'esm-mjs', 'index.handler');
  const res = await rt.api.invoke({ x: 1 });
  t.same(res.json, { module: 'esm-mjs', loadedAt: 'init', input: { x: 1 } });
});

t.test('.js is loaded as ESM when the nearest package.json has type module', async (t) => {
  const rt = await startRuntime(t, 'type-module', 'index.handler');
  t.same((await rt.api.invoke({ y: 2 })).json, { module: 'type-module', isEsm: true, input: { y: 2 } });
});

t.test('.cjs is loaded with require even under type module', async (t) => {
  const rt = await startRuntime(t, 'type-module', 'legacy.handler');
  t.same((await rt.api.invoke({})).json, { module: 'legacy.cjs', isCjs: true });
});

t.test('handler in a sub-directory: src/app.handler', async (t) => {
  const rt = await startRuntime(t, 'nested', 'src/app.handler');
  t.same((await rt.api.invoke({ z: 3 })).json, { module: 'src/app', input: { z: 3 } });
});

t.test('nested property path: src/app.routes.get', async (t) => {
  const rt = await startRuntime(t, 'nested', 'src/app.routes.get');
  t.same((await rt.api.invoke({})).json, { route: 'get' });
});

t.test('extensionless module file', async (t) => {
  const rt = await startRuntime(t, 'extensionless', 'app.handler');
  t.same((await rt.api.invoke({})).json, { module: 'extensionless' });
});

t.test('module found through node_modules resolution from the task root', async (t) => {
  const rt = await startRuntime(t, 'node-modules', 'greeter.handler');
  t.same((await rt.api.invoke({ name: 'ada' })).json, { module: 'greeter', hello: 'ada' });
});

t.test('invocation errors', async (t) => {
  const cases: { handler: string; errorType: string; errorMessage: string; trace: 'stack' | 'empty' }[] = [
    { handler: 'index.throwsError', errorType: 'TypeError', errorMessage: 'boom', trace: 'stack' },
    { handler: 'index.syncThrows', errorType: 'Error', errorMessage: 'sync boom', trace: 'stack' },
    { handler: 'index.throwsString', errorType: 'string', errorMessage: 'just a string', trace: 'empty' },
    { handler: 'index.rejects', errorType: 'RangeError', errorMessage: 'rejected', trace: 'stack' },
    { handler: 'index.rejectsUndefined', errorType: 'string', errorMessage: 'handled', trace: 'empty' },
    { handler: 'index.callbackError', errorType: 'Error', errorMessage: 'callback error', trace: 'stack' },
    { handler: 'index.failUndefined', errorType: 'string', errorMessage: 'handled', trace: 'empty' },
    { handler: 'index.neverSettles', errorType: 'Runtime.NodeJsExit', errorMessage: '', trace: 'stack' },
    { handler: 'index.circular', errorType: 'Runtime.MarshalError', errorMessage: '', trace: 'stack' },
  ];
  for (const c of cases) {
    t.test(`${c.handler} posts ${c.errorType}`, async (t) => {
      const rt = await startRuntime(t, 'errors', c.handler);
      const res = await rt.api.invoke({});
      t.equal(res.kind, 'error');
      const body = res.json as { errorType: string; errorMessage: string; trace: string[] };
      t.equal(body.errorType, c.errorType);
      if (c.errorMessage) t.equal(body.errorMessage, c.errorMessage);
      else t.ok(body.errorMessage.length > 0, 'has a message');
      t.ok(Array.isArray(body.trace), 'trace is an array');
      if (c.trace === 'empty') t.same(body.trace, []);
      else t.ok(body.trace.length > 0, 'trace has the stack lines');
      t.equal(res.headers['lambda-runtime-function-error-type'], c.errorType);
      t.match(rt.stderr(), /\tERROR\tInvoke Error \t\{"errorType":/, 'logs the error to stderr');
      // The process keeps serving after a handled failure.
      const again = rt.api.queue({});
      t.equal((await rt.api.waitForResult(again)).kind, 'error', 'serves the next invocation');
      t.equal(rt.child.exitCode, null, 'still running');
    });
  }
});

t.test('uncaught exception during an invocation posts an error for it, then exits 129', async (t) => {
  const rt = await startRuntime(t, 'errors', 'index.uncaught');
  const res = await rt.api.invoke({});
  t.equal(res.kind, 'error');
  t.match(res.json, { errorType: 'Error', errorMessage: 'uncaught in timer' });
  t.equal(await exitedWithin(rt), 129);
});

t.test('unhandled rejection during an invocation posts Runtime.UnhandledPromiseRejection, then exits 128', async (t) => {
  const rt = await startRuntime(t, 'errors', 'index.unhandled');
  const res = await rt.api.invoke({});
  t.equal(res.kind, 'error');
  t.match(res.json, { errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'Error: nobody handles this' });
  t.equal(await exitedWithin(rt), 128);
});

t.test('init errors post init/error with the error type header, then exit 1', async (t) => {
  const cases: { name: string; fixture: string; handler: string; errorType: string; message: RegExp }[] = [
    {
      name: 'missing module file',
      fixture: 'echo',
      handler: 'nope.handler',
      errorType: 'Runtime.ImportModuleError',
      message: /Cannot find module 'nope'/,
    },
    {
      name: 'module requiring a missing package',
      fixture: 'missing-module',
      handler: 'index.handler',
      errorType: 'Runtime.ImportModuleError',
      message: /Cannot find module 'gantry-no-such-package'/,
    },
    {
      name: 'missing export',
      fixture: 'echo',
      handler: 'index.nope',
      errorType: 'Runtime.HandlerNotFound',
      message: /^index\.nope is undefined or not exported$/,
    },
    {
      name: 'export that is not a function',
      fixture: 'nested',
      handler: 'src/app.routes',
      errorType: 'Runtime.HandlerNotFound',
      message: /^src\/app\.routes is not a function$/,
    },
    {
      name: 'syntax error',
      fixture: 'syntax-error',
      handler: 'index.handler',
      errorType: 'Runtime.UserCodeSyntaxError',
      message: /^SyntaxError: /,
    },
    {
      name: 'handler without a dot',
      fixture: 'echo',
      handler: 'index',
      errorType: 'Runtime.MalformedHandlerName',
      message: /Bad handler/,
    },
    {
      name: 'handler with ..',
      fixture: 'echo',
      handler: '../echo/index.handler',
      errorType: 'Runtime.MalformedHandlerName',
      message: /'\.\.' is not allowed/,
    },
    {
      name: 'module that throws while loading',
      fixture: 'init-throws',
      handler: 'index.handler',
      errorType: 'ConfigError',
      message: /^missing setting$/,
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const rt = await startRuntime(t, c.fixture, c.handler);
      const post = await rt.api.waitForInitError();
      t.equal(post.headers['lambda-runtime-function-error-type'], c.errorType);
      const body = post.json as { errorType: string; errorMessage: string; trace: unknown };
      t.equal(body.errorType, c.errorType);
      t.match(body.errorMessage, c.message);
      t.ok(Array.isArray(body.trace), 'trace is an array');
      t.equal(await exitedWithin(rt), 1, 'exits 1');
      t.equal(rt.api.nextCalls, 0, 'never polls next');
      t.equal(rt.stdout(), '', 'nothing on stdout');
    });
  }
});

t.test('exits instead of hanging when the Runtime API is not there', async (t) => {
  const api = await FakeRuntimeApi.start();
  const socketPath = api.socketPath;
  await api.close();
  const [command, args] = runtimeCommand(socketPath);
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', _HANDLER: 'index.nope', LAMBDA_TASK_ROOT: path.join(fixtures, 'echo') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('runtime did not exit')), WAIT_MS);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  t.equal(code, 1);
});
