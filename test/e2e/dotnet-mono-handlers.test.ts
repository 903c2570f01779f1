// dotnet-mono beyond the conformance suite: what AWS's .NET runtime does with handler strings,
// serializers and a bundled Amazon.Lambda.Core, and the registry-only .NET 8 and PowerShell
// runtimes when their images are absent.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { buildDotnetFixtures } from '../support/dotnet-fixtures.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';

const fixtures = await buildDotnetFixtures();
t.teardown(fixtures.cleanup);
const stack = await startStack(t, { env: { GANTRY_STEM_CELLS_PER_RUNTIME: '0' } });

const invoke = async (name: string, event: unknown = {}) => {
  const res = await stack.admin('POST', `/v1/functions/${name}/invoke`, event);
  return { res, body: (await res.json()) as any };
};
const deploy = (t: Parameters<typeof deployFunction>[0], name: string, handler: string, code = fixtures.code) =>
  deployFunction(t, stack, name, code, { runtime: 'dotnet-mono', handler, timeoutMs: 30_000 });

await t.test('an assembly that bundles Amazon.Lambda.Core gets the context the runtime passes', async (t) => {
  await deploy(t, 'bundled-core', 'Contract::Contract.Function::Context', fixtures.codeWithCore);
  const { res, body } = await invoke('bundled-core');
  t.equal(res.headers.get('x-gantry-function-error'), null, JSON.stringify(body));
  t.equal(body.functionName, 'bundled-core');
  t.equal(body.requestId, res.headers.get('x-gantry-invocation-id'));
});

await t.test('an exception is reported with its class, message, frames and cause', async (t) => {
  await deploy(t, 'fails', 'Contract::Contract.Function::Fail');
  const { res, body } = await invoke('fails', { fail: true });
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.equal(body.errorType, 'InvalidOperationException');
  t.equal(body.errorMessage, 'contract failure');
  t.ok(body.stackTrace.some((l: string) => l.startsWith('at Contract.Function.Fail')), `the handler's frame: ${JSON.stringify(body.stackTrace)}`);
  t.ok(body.stackTrace.every((l: string) => l === l.trim() && l.length > 0), 'one trimmed frame per line');
});

await t.test('a constructor that throws is an init error carrying the exception as its cause', async (t) => {
  await deploy(t, 'ctor-fails', 'Contract::Contract.InitFail::Handler');
  const { res, body } = await invoke('ctor-fails');
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.equal(body.errorType, 'TargetInvocationException');
  t.match(body.cause, { errorType: 'InvalidOperationException', errorMessage: 'the constructor failed' });
});

// Unbounded, the copy would run until the memory limit (Runtime.OutOfMemory) or the timeout.
await t.test('a Stream result that never ends is read only past the limit: ResponseSizeTooLarge, not an exhausted process', async (t) => {
  await deployFunction(t, stack, 'endless', fixtures.code, { runtime: 'dotnet-mono', handler: 'Contract::Contract.Streams::Endless', memoryMb: 128, timeoutMs: 30_000 });
  const { res, body } = await invoke('endless');
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.equal(body.errorType, 'Function.ResponseSizeTooLarge', JSON.stringify(body));
});

const loadErrors: readonly [string, string, string][] = [
  ['missing-type', 'Contract::Contract.Nope::Echo', "Unable to load type 'Contract.Nope' from assembly 'Contract'."],
  ['missing-method', 'Contract::Contract.Function::Nope', "Unable to find method 'Nope' in type 'Contract.Function' from assembly 'Contract': Found no methods matching method name 'Nope'."],
];
for (const [name, handler, message] of loadErrors) {
  await t.test(`${name}: LambdaValidationException at invoke, with AWS's message`, async (t) => {
    await deploy(t, name, handler);
    const { res, body } = await invoke(name);
    t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
    t.equal(body.errorType, 'LambdaValidationException');
    t.equal(body.errorMessage, message);
  });
}

await t.test('a typed handler in an assembly without [LambdaSerializer] is refused at init', async (t) => {
  await deploy(t, 'no-serializer', 'NoSerializer::NoSerializer.Function::Handler');
  const { body } = await invoke('no-serializer');
  t.equal(body.errorType, 'LambdaValidationException');
  t.match(body.errorMessage, /^Could not find the LambdaSerializerAttribute on the assembly 'NoSerializer, .*' or method 'Handler' while attempting to deserialize input data of type 'System\.Collections\.Generic\.Dictionary/);
});

await t.test('a handler naming an assembly the zip does not hold deploys with a warning, and its invocations fail', async (t) => {
  const res = await stack.admin('POST', '/v1/functions', {
    name: 'no-assembly', runtime: 'dotnet-mono', handler: 'Missing::Missing.Function::Handler', code: { zipBase64: fixtures.code.toString('base64') },
  });
  t.equal(res.status, 201);
  t.match(await res.json(), { warnings: ['The code has no assembly "Missing" at its root (looked for Missing.dll, Missing.exe).'] });
  const failed = await stack.admin('POST', '/v1/functions/no-assembly/invoke', {});
  t.equal(failed.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(await failed.json(), { errorType: /\S/ });
});

await t.test('the context logger and LambdaLogger write to the invocation\'s log', async (t) => {
  await deploy(t, 'logs', 'Contract::Contract.Function::Print');
  const { res } = await invoke('logs', { marker: 'mk1' });
  const id = res.headers.get('x-gantry-invocation-id') as string;
  type Line = { stream: string; message: string };
  const lines = async () => ((await (await stack.admin('GET', `/v1/functions/logs/logs?invocationId=${id}`)).json()) as { lines: Line[] }).lines;
  const found = await eventually(async () => {
    const l = await lines();
    return l.some((x) => x.stream === 'stdout' && x.message === 'logger mk1') && l.some((x) => x.stream === 'stdout' && x.message === 'static logger mk1');
  }, 5_000);
  t.ok(found, JSON.stringify(await lines()));
});

const imagePresent = (id: string) => {
  try {
    execFileSync('docker', ['image', 'inspect', `gantry/${id}:latest`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
for (const id of ['dotnet8', 'powershell']) {
  await t.test(`${id}: listed only when its image is present; otherwise creating a function says it is not installed`, async (t) => {
    const { runtimes } = (await (await stack.admin('GET', '/v1/runtimes')).json()) as { runtimes: { id: string }[] };
    if (imagePresent(id)) {
      t.ok(runtimes.some((r) => r.id === id), `${id} is listed`);
      return;
    }
    t.notOk(runtimes.some((r) => r.id === id), `${id} is not listed: ${JSON.stringify(runtimes.map((r) => r.id))}`);
    const res = await stack.admin('POST', '/v1/functions', {
      name: `absent-${id}`, runtime: id, handler: id === 'dotnet8' ? 'Contract::Contract.Function::Echo' : 'handler.ps1', code: { zipBase64: fixtures.code.toString('base64') },
    });
    t.equal(res.status, 400);
    t.match(await res.json(), { error: { type: 'ValidationError', message: new RegExp(`^Runtime "${id}" is not installed on this node; available: `) } });
  });
}
