// The ruby3.3 runtime client (runtime-images/ruby/runtime/) inside the BUILT gantry/ruby3.3
// image, run as the control plane runs it (test/support/runtime-container.ts), against a fake
// Runtime API: the context, the trace id, error documents and their header, init errors, the
// critical exceptions after which the process ends, raw events, null results and output. The
// platform-level contract is test/contract/runtime.contract.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { imageLabels, requireImage, startRuntimeContainer } from '../support/runtime-container.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.resolve(here, '../fixtures/functions/ruby/client');
const IMAGE = process.env.GANTRY_RUBY33_IMAGE ?? 'gantry/ruby3.3:latest';
const WAIT_MS = 20_000;

async function start(t: Test, handler: string) {
  if (!(await requireImage(t, IMAGE))) throw new Error(`${IMAGE} missing`);
  return startRuntimeContainer(t, { image: IMAGE, taskDir: FIXTURE, handler, testLabel: 'runtime-ruby3.3-image' });
}

/** Waits (bounded) until `pattern` matches the output read so far from `docker run`'s pipes. */
async function outputMatches(read: () => string, pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return read();
}

interface RbError {
  errorMessage: string;
  errorType: string;
  stackTrace: string[];
}

t.test('context carries the environment and the next headers; _X_AMZN_TRACE_ID follows each invocation', async (t) => {
  const c = await start(t, 'app.context_info');
  const deadlineMs = Date.now() + 5_000;
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:image-test:live';
  const res = await c.api.invoke(
    {},
    {
      requestId: 'rb-ctx-1',
      deadlineMs,
      invokedFunctionArn: arn,
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
      clientContext: JSON.stringify({ custom: { k: 'v' } }),
      cognitoIdentity: JSON.stringify({ cognitoIdentityId: 'id-1' }),
    },
    WAIT_MS,
  );
  t.equal(res.kind, 'response', c.logs());
  const first = res.json as Record<string, any>;
  t.match(first, {
    aws_request_id: 'rb-ctx-1',
    function_name: 'image-test',
    function_version: '$LATEST',
    memory_limit_in_mb: '256',
    log_group_name: '/aws/lambda/image-test',
    log_stream_name: '2025/01/05/[$LATEST]0123456789abcdef0123456789abcdef',
    invoked_function_arn: arn,
    deadline_ms: deadlineMs,
    identity: { cognitoIdentityId: 'id-1' },
    client_context: { custom: { k: 'v' } },
    trace_id: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
  });
  t.ok(first.remaining > 0 && first.remaining <= 5_000, `remaining ${first.remaining}`);
  const second = (await c.api.invoke({}, { requestId: 'rb-ctx-2', deadlineMs: Date.now() - 1_000 }, WAIT_MS)).json as Record<string, any>;
  t.equal(second.remaining, 0, 'never below 0');
  t.equal(second.trace_id, null, 'the trace id of the previous invocation is gone');
  t.equal(second.identity, null);
  t.equal(second.pid, first.pid, 'the same process');
});

t.test('a StandardError is Function<Class> in the body; the header says Function<UserException> for classes of its own', async (t) => {
  const plain = await start(t, 'app.user_error');
  const res = await plain.api.invoke({}, { requestId: 'rb-err' }, WAIT_MS);
  t.equal(res.kind, 'error');
  const doc = res.json as RbError;
  t.match(doc, { errorType: 'Function<RuntimeError>', errorMessage: 'plain failure' });
  t.match(doc.stackTrace[0], /^\/var\/task\/app\.rb:26:in /);
  t.ok(doc.stackTrace.every((f) => !f.includes('/var/runtime/')), 'no runtime frames');
  t.equal(res.headers['lambda-runtime-function-error-type'], 'Function<UserException>');
  const logged = /^Error raised from handler method\n\{\n {2}"errorMessage": "plain failure",/m;
  t.match(await outputMatches(plain.stdout, logged), logged, 'logged as indented JSON');
  await plain.api.waitForPoll(WAIT_MS);

  const argument = await start(t, 'app.argument_error');
  const arg = await argument.api.invoke({}, {}, WAIT_MS);
  t.equal((arg.json as RbError).errorType, 'Function<ArgumentError>');
  t.equal(arg.headers['lambda-runtime-function-error-type'], 'Function<ArgumentError>', "Ruby's own common classes are named");
});

t.test('init errors are posted to init/error as Init<Class>, logged, and the process exits 1', async (t) => {
  for (const [handler, type, message] of [
    ['broken.handler', 'Init<LoadError>', /cannot load such file -- gantry_gem_that_is_not_there/],
    ['nowhere.handler', 'Init<LoadError>', /cannot load such file -- nowhere/],
    ['app', 'Init<ArgumentError>', /Bad handler "app"/],
  ] as const) {
    await t.test(handler, async (t) => {
      const c = await start(t, handler);
      const post = await c.api.waitForInitError(WAIT_MS);
      t.match(post.json, { errorType: type, errorMessage: message });
      t.equal(post.headers['lambda-runtime-function-error-type'], type);
      t.equal(await c.exited, 1);
      t.match(c.stdout(), new RegExp(`^Init error when loading handler ${handler.replace('.', '\\.')}$`, 'm'));
    });
  }
});

t.test('critical exceptions are posted, then the process ends: a missing method (255), exit in the handler', async (t) => {
  const missing = await start(t, 'app.nope');
  const res = await missing.api.invoke({}, {}, WAIT_MS);
  t.match(res.json, { errorType: 'Function<NoMethodError>', errorMessage: /undefined method [`']nope'/ });
  t.equal(await missing.exited, 255);
  t.match(missing.stdout(), /^Critical exception from handler$/m);

  const exits = await start(t, 'app.exits');
  const exited = await exits.api.invoke({}, {}, WAIT_MS);
  t.match(exited.json, { errorType: 'Function<SystemExit>', errorMessage: 'exit' });
  t.equal(await exits.exited, 255);
});

t.test('a JSON event that is a string arrives as a UTF-8 String; nil is posted as null, after the output', async (t) => {
  const c = await start(t, 'app.raw');
  const res = await c.api.invoke('héllo', {}, WAIT_MS);
  t.same(res.json, { event: 'héllo', encoding: 'UTF-8' });

  const n = await start(t, 'app.nil_result');
  const r = await n.api.invoke({}, {}, WAIT_MS);
  t.equal(r.body, 'null');
  t.equal(r.headers['content-type'], 'application/json');
  t.match(await outputMatches(n.stdout, /printed before the result/), /printed before the result/);
  t.match(await outputMatches(n.stderr, /and to stderr/), /and to stderr/);
});

t.test('gantry/ruby3.3 image carries the runtime labels', async (t) => {
  if (!(await requireImage(t, IMAGE))) return;
  const labels = await imageLabels(IMAGE);
  t.equal(labels['gantry.runtime'], 'ruby3.3');
  t.match(labels['gantry.runtime.version'], /^3\.3\.\d+$/);
});
