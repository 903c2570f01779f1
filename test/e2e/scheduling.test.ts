// Warm pools on the real engine: scale-out, reserved concurrency, stem cells, keep-warm reaping,
// provisioned concurrency, init failures without a retry storm, a crash that hurts only its own
// caller, per-invocation logs with Lambda's tail, and the metrics that show all of it.
import { readdir } from 'node:fs/promises';
import { containersDirOf } from '../../control-plane/scheduler/environment-paths.js';
import t from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t, { env: { GANTRY_KEEP_WARM_MS: '4000', GANTRY_INIT_FAILURE_BACKOFF_MS: '1500', GANTRY_INIT_TIMEOUT_MS: '2000' } });
const SLEEP = `exports.handler = (e) => new Promise((r) => setTimeout(() => r({ pid: process.pid }), e.ms ?? 0));`;

const invoke = (name: string, body: unknown = {}, headers: Record<string, string> = {}) =>
  stack.admin('POST', `/v1/functions/${name}/invoke`, body, headers);
const metrics = async () => (await fetch(`${stack.controlPlaneUrl}/metrics`)).text();
const gauge = (text: string, name: string, labels = '') => Number(new RegExp(`^${name}${labels.replace(/[{}]/g, (m) => `\\${m}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

await t.test('concurrent calls of one function scale out to one container each', async (t) => {
  // Each call says where and when it ran: two calls that overlap must never share an environment.
  // On a loaded machine one may start only after another ended and reuse its warm environment,
  // so the count of environments is checked against the cold starts, not assumed to be 3.
  const WHERE = `const os = require('os'); exports.handler = (e) => { const start = Date.now(); return new Promise((r) => setTimeout(() => r({ host: os.hostname(), start, end: Date.now() }), e.ms)); };`;
  await deployFunction(t, stack, 'wide', nodeZip(WHERE), { memoryMb: 192 });
  const results = await Promise.all([1, 2, 3].map(() => invoke('wide', { ms: 800 })));
  t.same(results.map((r) => r.status), [200, 200, 200]);
  t.equal(new Set(results.map((r) => r.headers.get('x-gantry-invocation-id'))).size, 3);
  const runs = await Promise.all(results.map(async (r) => ({ ...((await r.json()) as { host: string; start: number; end: number }), cold: r.headers.get('x-gantry-cold-start') === 'true' })));
  for (const [i, a] of runs.entries()) {
    for (const b of runs.slice(i + 1)) {
      if (a.start < b.end && b.start < a.end) t.not(a.host, b.host, 'overlapping calls ran in different environments');
    }
  }
  const hosts = new Set(runs.map((r) => r.host));
  t.ok(hosts.size >= 2, `the calls scaled out (${hosts.size} environments)`);
  t.equal(runs.filter((r) => r.cold).length, hosts.size, 'each environment was a cold start once, and only one call reused one');
});

await t.test('reserved concurrency limits a function at once with 429, and 0 throttles every call', async (t) => {
  await deployFunction(t, stack, 'narrow', nodeZip(SLEEP));
  t.equal((await stack.admin('PATCH', '/v1/functions/narrow', { reservedConcurrency: 1 })).status, 200);
  const slow = invoke('narrow', { ms: 1500 });
  await eventually(async () => gauge(await metrics(), 'gantry_concurrency_in_use') >= 1, 3_000);
  const throttled = await invoke('narrow', { ms: 0 });
  t.equal(throttled.status, 429);
  t.equal(throttled.headers.get('x-gantry-throttle-reason'), 'ReservedFunctionConcurrentInvocationLimitExceeded');
  t.match(await throttled.json(), { error: { type: 'TooManyRequests' } });
  t.equal((await slow).status, 200);
  t.equal((await invoke('narrow', { ms: 0 })).status, 200, 'the slot is free again');
  await stack.admin('PATCH', '/v1/functions/narrow', { reservedConcurrency: 0 });
  t.equal((await invoke('narrow')).status, 429);
  const cleared = await stack.admin('PATCH', '/v1/functions/narrow', { reservedConcurrency: null });
  t.match(await cleared.json(), { reservedConcurrency: null });
  t.equal((await invoke('narrow')).status, 200);
  t.match(await metrics(), /gantry_throttles_total\{function="narrow"\} [1-9]/);
});

await t.test('the first call of a function is served by a prewarmed stem cell', async (t) => {
  t.ok(await eventually(async () => gauge(await metrics(), 'gantry_environments', '{state="stem-cell"}') >= 1, 30_000), 'a stem cell is ready');
  await deployFunction(t, stack, 'stemmed', nodeZip(`const fs = require('fs'); exports.handler = async () => ({ files: fs.readdirSync('/var/task'), env: process.env.MY_VAR, handler: process.env._HANDLER });`), { environment: { MY_VAR: 'mine' } });
  const first = await invoke('stemmed');
  t.equal(first.headers.get('x-gantry-cold-start'), 'true');
  t.equal(first.headers.get('x-gantry-cold-start-kind'), 'stem-cell');
  t.same(await first.json(), { files: ['index.js'], env: 'mine', handler: 'index.handler' }, 'its own code and environment only');
  const second = await invoke('stemmed');
  t.equal(second.headers.get('x-gantry-cold-start'), 'false');
  t.ok(await eventually(async () => gauge(await metrics(), 'gantry_environments', '{state="stem-cell"}') >= 2, 30_000), 'the pool refills');
  t.match(await metrics(), /gantry_cold_starts_total\{kind="stem-cell"\} [1-9]/);
});

await t.test('a function of another memory size gets a new container', async (t) => {
  await deployFunction(t, stack, 'big', nodeZip(SLEEP), { memoryMb: 320 });
  const res = await invoke('big');
  t.equal(res.headers.get('x-gantry-cold-start-kind'), 'container');
  t.match(await metrics(), /gantry_cold_starts_total\{kind="container"\} [1-9]/);
});

await t.test('idle environments are reaped after the keep-warm time', async (t) => {
  await deployFunction(t, stack, 'brief', nodeZip(SLEEP), { memoryMb: 256 });
  await invoke('brief');
  t.equal((await stack.containers()).filter((c) => c.Labels['gantry.function'] === 'brief').length, 1);
  t.ok(await eventually(async () => (await stack.containers()).every((c) => c.Labels['gantry.function'] !== 'brief'), 15_000, 250), 'reaped');
  const again = await invoke('brief');
  t.equal(again.headers.get('x-gantry-cold-start'), 'true');
});

await t.test('provisioned concurrency keeps initialised environments, reported in GET and replaced when they die', async (t) => {
  await deployFunction(t, stack, 'prov', nodeZip(`exports.handler = async () => process.env.AWS_LAMBDA_INITIALIZATION_TYPE;`), { memoryMb: 160 });
  const patched = await stack.admin('PATCH', '/v1/functions/prov', { provisionedConcurrency: 2 });
  t.match(await patched.json(), { provisionedConcurrency: 2 });
  const readyCount = async () => ((await (await stack.admin('GET', '/v1/functions/prov')).json()) as { provisionedConcurrencyReady: number }).provisionedConcurrencyReady;
  t.ok(await eventually(async () => (await readyCount()) === 2, 30_000, 200), 'two ready before any traffic');
  const res = await invoke('prov');
  t.equal(res.headers.get('x-gantry-cold-start'), 'false', 'the first call is warm');
  t.equal(await res.json(), 'provisioned-concurrency');
  const docker = (await import('dockerode')).default;
  const victim = (await stack.containers()).find((c) => c.Labels['gantry.function'] === 'prov');
  await new docker().getContainer(victim!.Id).kill();
  t.ok(await eventually(async () => (await readyCount()) === 2 && (await stack.containers()).filter((c) => c.Labels['gantry.function'] === 'prov' && c.State === 'running').length === 2, 30_000, 200), 'replaced');
  await stack.admin('PATCH', '/v1/functions/prov', { provisionedConcurrency: null });
  t.match(await (await stack.admin('GET', '/v1/functions/prov')).json(), { provisionedConcurrency: null, provisionedConcurrencyReady: null });
});

await t.test('a failing init is reported without a retry storm', async (t) => {
  await deployFunction(t, stack, 'broken', nodeZip(`throw new Error('cannot start');`), { memoryMb: 224 });
  const first = await invoke('broken');
  t.equal(first.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(await first.json(), { errorType: 'Error', errorMessage: 'cannot start' });
  const starts = (await stack.containers()).length;
  const burst = await Promise.all(Array.from({ length: 10 }, () => invoke('broken')));
  t.ok(burst.every((r) => r.headers.get('x-gantry-function-error') === 'Unhandled'));
  t.equal(burst.filter((r) => r.headers.get('x-gantry-billed-duration-ms') === '0').length, 10, 'answered from the recent failure, not billed');
  t.ok((await stack.containers()).length <= starts, 'no container started for the burst');
});

await t.test('an init that hangs ends as a timeout and its container is removed', async (t) => {
  await deployFunction(t, stack, 'hangs', nodeZip(`const end = Date.now() + 60000; while (Date.now() < end) {} exports.handler = async () => 'never';`), { memoryMb: 288 });
  const res = await invoke('hangs');
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(await res.json(), { errorType: 'Sandbox.Timedout' });
  t.ok(await eventually(async () => (await stack.containers()).every((c) => c.Labels['gantry.function'] !== 'hangs'), 10_000), 'container removed');
});

await t.test('a runtime that exits mid-invocation fails only its own caller', async (t) => {
  await deployFunction(t, stack, 'crasher', nodeZip(`exports.handler = async (e) => { if (e.crash) setTimeout(() => process.exit(3), 50); await new Promise((r) => setTimeout(r, 300)); return 'ok'; };`));
  await deployFunction(t, stack, 'bystander', nodeZip(`exports.handler = async () => 'fine';`));
  const [crashed, other] = await Promise.all([invoke('crasher', { crash: true }), invoke('bystander')]);
  t.equal(crashed.headers.get('x-gantry-function-error'), 'Unhandled');
  const body = (await crashed.json()) as { errorType: string; errorMessage: string };
  t.equal(body.errorType, 'Runtime.ExitError');
  t.match(body.errorMessage, /exit status 3$/);
  t.equal(await other.text(), '"fine"');
  t.equal(await (await invoke('crasher', {})).text(), '"ok"', 'replaced by a fresh environment');
});

await t.test('output is stored per invocation and the last 4 KB come back with LogType Tail', async (t) => {
  await deployFunction(t, stack, 'chatty', nodeZip(`exports.handler = async (e) => { console.log('hello from', e.n); console.error('warn', e.n); if (e.flood) process.stdout.write('x'.repeat(1024 * 1024) + '\\n'); return e.n; };`));
  const res = await invoke('chatty', { n: 7 }, { 'x-gantry-log-type': 'Tail' });
  const id = res.headers.get('x-gantry-invocation-id') as string;
  const tail = Buffer.from(res.headers.get('x-gantry-log-result') ?? '', 'base64').toString('utf8');
  t.match(tail, new RegExp(`^START RequestId: ${id} Version: \\$LATEST\\n`));
  t.match(tail, /hello from 7\n/);
  t.match(tail, /warn 7\n/);
  t.match(tail, new RegExp(`END RequestId: ${id}\\nREPORT RequestId: ${id}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\t`));
  t.notOk((await invoke('chatty', { n: 8 })).headers.get('x-gantry-log-result'), 'no tail unless asked');
  const flood = await invoke('chatty', { n: 9, flood: true }, { 'x-gantry-log-type': 'Tail' });
  t.equal(await flood.json(), 9, 'a megabyte of output does not break the call');
  t.ok(Buffer.from(flood.headers.get('x-gantry-log-result') ?? '', 'base64').length <= 4096, 'tail is at most 4 KB');
  const lines = async (q: string) => ((await (await stack.admin('GET', `/v1/functions/chatty/logs${q}`)).json()) as { lines: { invocationId: string; stream: string; message: string }[] }).lines;
  t.ok(await eventually(async () => (await lines(`?invocationId=${id}`)).some((l) => l.message === 'warn 7'), 5_000));
  const mine = await lines(`?invocationId=${id}`);
  t.ok(mine.every((l) => l.invocationId === id), 'only that invocation');
  t.same(mine.find((l) => l.message === 'warn 7')?.stream, 'stderr');
  t.same(mine.find((l) => l.message === 'hello from 7')?.stream, 'stdout');
  t.ok((await lines('')).some((l) => l.message === 'hello from 8'), 'newest lines of the function');
  t.equal((await stack.admin('GET', '/v1/functions/chatty/logs?invocationId=nope')).status, 400);
});

await t.test('nothing leaks: slots, environments and socket directories match after all of this', async (t) => {
  // Removal of a destroyed environment's container is asynchronous: wait for the books to agree.
  const agree = async () => {
    const text = await metrics();
    const live = ['starting', 'idle', 'busy', 'stem-cell'].reduce((n, s) => n + gauge(text, 'gantry_environments', `{state="${s}"}`), 0);
    const dirs = await readdir(containersDirOf(stack.dataDir, stack.nodeId));
    const containers = (await stack.containers()).length;
    return gauge(text, 'gantry_concurrency_in_use') === 0 && dirs.length === live && containers === live;
  };
  t.ok(await eventually(agree, 20_000, 250), 'no slot held; one directory and one container per live environment');
});
