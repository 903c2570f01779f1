// Node capacity and engine outages: the memory budget evicts idle environments or throttles at
// once, and a Docker engine that goes away costs new containers a 503 while warm functions keep
// answering, with recovery when it returns and no Gantry restart.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SocketProxy } from '../support/socket-proxy.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const dir = await mkdtemp(path.join(tmpdir(), 'gantry-proxy-'));
const proxy = new SocketProxy(path.join(dir, 'docker.sock'));
await proxy.start();
// Registered before the stack: teardowns run last-first, so the stack (which needs the engine to
// remove its containers) closes while the proxy is still up.
t.teardown(async () => {
  await proxy.stop();
  await rm(dir, { recursive: true, force: true });
});
// Room for exactly four 128 MB environments; no stem cells, so every cold start is a container.
const stack = await startStack(t, {
  env: { DOCKER_HOST: `unix://${proxy.path}`, GANTRY_NODE_MEMORY_MB: '512', GANTRY_STEM_CELLS_PER_RUNTIME: '0' },
});

const SLEEP = `exports.handler = (e) => new Promise((r) => setTimeout(() => r('slept'), e.ms ?? 0));`;
const invoke = (name: string, body: unknown = {}) => stack.admin('POST', `/v1/functions/${name}/invoke`, body);
const running = async () => (await stack.containers()).filter((c) => c.State === 'running').length;

await t.test('past the node memory budget a call is throttled at once, never queued', async (t) => {
  await deployFunction(t, stack, 'hog', nodeZip(SLEEP));
  const busy = [1, 2, 3, 4].map(() => invoke('hog', { ms: 2500 }));
  t.ok(await eventually(async () => (await running()) === 4, 15_000), 'four environments fill the budget');
  const started = Date.now();
  const fifth = await invoke('hog', { ms: 0 });
  t.equal(fifth.status, 429);
  t.equal(fifth.headers.get('x-gantry-throttle-reason'), 'ConcurrentInvocationLimitExceeded', 'the node is full');
  t.match(await fifth.json(), { error: { type: 'TooManyRequests' } });
  t.ok(Date.now() - started < 2_000, 'answered at once');
  t.same((await Promise.all(busy)).map((r) => r.status), [200, 200, 200, 200]);
});

await t.test('when the budget is full of idle environments the least recently used one is evicted', async (t) => {
  await deployFunction(t, stack, 'newcomer', nodeZip(SLEEP));
  const res = await invoke('newcomer');
  t.equal(res.status, 200);
  t.ok(await eventually(async () => (await running()) <= 4, 10_000), 'still within the budget');
  t.equal((await stack.containers()).filter((c) => c.Labels['gantry.function'] === 'newcomer').length, 1);
});

await t.test('with the engine unreachable, cold starts get 503 and warm functions keep answering', async (t) => {
  await deployFunction(t, stack, 'coldone', nodeZip(SLEEP));
  t.equal(await (await invoke('newcomer')).text(), '"slept"', 'newcomer is warm');
  await proxy.stop();
  const cold = await invoke('coldone');
  t.equal(cold.status, 503);
  t.match(await cold.json(), { error: { type: 'ServiceUnavailable' } });
  const warm = await invoke('newcomer');
  t.equal(warm.status, 200, 'a warm environment needs no engine');
  const ready = await fetch(`${stack.controlPlaneUrl}/readyz`);
  t.equal(ready.status, 503);
  t.match(await ready.json(), { ready: false, checks: { docker: false } });
});

await t.test('when the engine is back, cold starts work again without a restart', async (t) => {
  await proxy.start();
  t.ok(await eventually(async () => (await invoke('coldone')).status === 200, 15_000, 250));
  t.equal((await fetch(`${stack.controlPlaneUrl}/readyz`)).status, 200);
  t.equal(await (await invoke('newcomer')).text(), '"slept"');
});
