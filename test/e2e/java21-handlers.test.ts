// The java21 programming model beyond the conformance suite, on the real engine: Lambda's zip
// layouts (one jar; lib/*.jar; a jar at the root) without aws-lambda-java-core bundled, the
// handler forms (RequestHandler of beans, RequestStreamHandler, Class::method with String, List
// and void), and the errors AWS's Java runtime reports, with its messages and error types.
import t from 'tap';
import { buildJavaFixtures } from '../support/java-build.js';
import { deployFunction, startStack } from '../support/stack.js';

const packages = await buildJavaFixtures(t);
const stack = await startStack(t, { env: { GANTRY_STEM_CELLS_PER_RUNTIME: '0', GANTRY_INIT_FAILURE_BACKOFF_MS: '0' } });

let created = 0;
const deploy = async (t: Parameters<typeof deployFunction>[0], handler: string, code = packages.jar): Promise<string> => {
  const name = `java-${++created}`;
  await deployFunction(t, stack, name, code, { runtime: 'java21', handler, memoryMb: 256, timeoutMs: 30_000 });
  return name;
};
const invoke = async (name: string, event: unknown) => {
  const res = await stack.admin('POST', `/v1/functions/${name}/invoke`, event);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { res, text, json };
};

await t.test('a RequestHandler of beans runs from each zip layout, without aws-lambda-java-core bundled', async (t) => {
  for (const [layout, code] of [['one jar', packages.jar], ['lib/app.jar', packages.libJar], ['app.jar at the root', packages.rootJar]] as const) {
    const name = await deploy(t, 'example.Greeter', code);
    const r = await invoke(name, { name: 'Ada', times: 2, unknown: 'ignored' });
    t.equal(r.res.headers.get('x-gantry-function-error'), null, `${layout}: ${r.text.slice(0, 300)}`);
    t.same(r.json, { lines: ['hello, Ada', 'hello, Ada'] }, `${layout}: the bean in and out, its null property left out`);
  }
});

await t.test('what the handler logs through context.getLogger() is the invocation\'s', async (t) => {
  const name = await deploy(t, 'example.Greeter');
  const r = await invoke(name, { name: 'Grace', times: 1 });
  t.same(r.json, { lines: ['hello, Grace'] });
  const id = r.res.headers.get('x-gantry-invocation-id') as string;
  const logs = (await (await stack.admin('GET', `/v1/functions/${name}/logs?invocationId=${id}`)).json()) as { lines: { message: string }[] };
  t.ok(logs.lines.some((l) => l.message === 'greeting Grace'), JSON.stringify(logs.lines.slice(-4)));
});

await t.test('a RequestStreamHandler reads the raw event and its bytes are the result', async (t) => {
  const name = await deploy(t, 'example.Streamer');
  const r = await invoke(name, { a: [1, 2] });
  t.equal(r.res.headers.get('x-gantry-function-error'), null, r.text.slice(0, 300));
  t.same(r.json, { length: 11, requestId: r.res.headers.get('x-gantry-invocation-id'), raw: { a: [1, 2] } });
});

await t.test('an aws-lambda-java-events bean reads Lambda\'s JSON, "Records" and all', async (t) => {
  const name = await deploy(t, 'example.Queue');
  const event = { Records: [{ messageId: 'm1', body: 'first', eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:q', attributes: { ApproximateReceiveCount: '1' }, md5OfBody: 'x' }, { messageId: 'm2', body: 'second' }] };
  const r = await invoke(name, event);
  t.equal(r.res.headers.get('x-gantry-function-error'), null, r.text.slice(0, 300));
  t.equal(r.json, 'm1=first,m2=second');
});

await t.test('Class::method handlers take a String, a List, or return nothing', async (t) => {
  const upper = await deploy(t, 'example.Strings::upper');
  t.equal((await invoke(upper, 'gantry')).json, 'GANTRY');
  const wrong = await invoke(upper, { not: 'a string' });
  t.equal(wrong.res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(wrong.json, { errorType: 'java.lang.RuntimeException', errorMessage: 'An error occurred during JSON parsing' }, 'an event that is not the parameter type');
  const count = await deploy(t, 'example.Strings::count');
  t.equal((await invoke(count, [1, 'two', null])).json, 3);
  const nothing = await deploy(t, 'example.Strings::nothing');
  const r = await invoke(nothing, {});
  t.equal(r.res.headers.get('x-gantry-function-error'), null);
  t.equal(r.text, 'null', 'a void method answers null');
});

await t.test('an exception is reported with its class, message and frames; the process goes on', async (t) => {
  const name = await deploy(t, 'example.Strings::fail');
  const r = await invoke(name, {});
  t.equal(r.res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.equal(r.json.errorType, 'java.lang.UnsupportedOperationException');
  t.equal(r.json.errorMessage, 'no strings today');
  t.match(r.json.stackTrace?.[0], /^example\.Strings\.fail\(Strings\.java:\d+\)$/, 'the handler\'s own frame first');
  t.notOk((r.json.stackTrace as string[]).some((f) => f.includes('gantry.runtime')), 'no runtime frames');
  const again = await invoke(name, {});
  t.equal(again.res.headers.get('x-gantry-cold-start'), 'false');
});

await t.test('a missing class or method is reported at every invocation, as AWS reports it', async (t) => {
  const noClass = await deploy(t, 'example.Nope::handle');
  for (const attempt of [1, 2]) {
    const r = await invoke(noClass, {});
    t.equal(r.res.headers.get('x-gantry-function-error'), 'Unhandled');
    t.match(r.json, { errorMessage: 'Class not found: example.Nope', errorType: 'java.lang.ClassNotFoundException' }, `attempt ${attempt}: ${r.text.slice(0, 200)}`);
    if (attempt === 2) t.equal(r.res.headers.get('x-gantry-cold-start'), 'false', 'the runtime keeps serving');
  }
  const noMethod = await invoke(await deploy(t, 'example.Strings::nope'), {});
  t.same(noMethod.json, { errorMessage: 'No public method named nope with appropriate method signature found on class example.Strings' }, 'no errorType, as AWS sends it');
  const noInterface = await invoke(await deploy(t, 'example.Strings'), {});
  t.same(noInterface.json, { errorMessage: 'Class does not implement an appropriate handler interface: example.Strings' });
  const malformed = await invoke(await deploy(t, 'example.Strings::'), {});
  t.same(malformed.json, { errorMessage: "Invalid handler: `example.Strings::'" });
});

await t.test('a constructor that throws is an init error with that exception', async (t) => {
  const name = await deploy(t, 'example.Broken::handle');
  const r = await invoke(name, {});
  t.equal(r.res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.same(r.json, { errorMessage: 'constructor refused', errorType: 'java.lang.IllegalArgumentException' });
});
