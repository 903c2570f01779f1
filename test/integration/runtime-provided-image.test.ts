// The BUILT gantry/provided image and its PID 1, gantry-relay (runtime-images/provided/relay/),
// run as the control plane runs it (--network none, read-only, uid 993; see
// test/support/runtime-container.ts) against a fake Runtime API on the container's socket:
// TCP 127.0.0.1:9001 reaches the socket, the bootstrap's exit is the container's, a bootstrap that
// cannot start is Runtime.InvalidEntrypoint, signals are forwarded and orphans reaped.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { docker, imageLabels, requireImage, startRuntimeContainer } from '../support/runtime-container.js';

const IMAGE = process.env.GANTRY_PROVIDED_IMAGE ?? 'gantry/provided:latest';
const WAIT_MS = 20_000;
const API = 'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"';

/** A task directory holding `files` (name -> [content, mode]); removed by t.teardown. */
async function taskDir(t: Test, files: Record<string, [string, number]>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-provided-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  for (const [name, [content, mode]] of Object.entries(files)) {
    await writeFile(path.join(dir, name), content);
    await chmod(path.join(dir, name), mode);
  }
  return dir;
}

async function start(t: Test, files: Record<string, [string, number]>) {
  if (!(await requireImage(t, IMAGE))) throw new Error(`${IMAGE} missing`);
  return startRuntimeContainer(t, { image: IMAGE, taskDir: await taskDir(t, files), handler: 'function.handler', testLabel: 'runtime-provided-image' });
}

t.test('a curl bootstrap reaches the Runtime API at 127.0.0.1:9001 with --network none', async (t) => {
  const bootstrap = `#!/bin/bash
set -euo pipefail
${API}
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -LD "$HEADERS" "$API/invocation/next")"
  REQUEST_ID="$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)"
  curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/response" -d "{\\"got\\": $EVENT, \\"api\\": \\"$AWS_LAMBDA_RUNTIME_API\\", \\"handler\\": \\"$_HANDLER\\"}"
done
`;
  const c = await start(t, { bootstrap: [bootstrap, 0o755] });
  const first = await c.api.invoke({ n: 1 }, {}, WAIT_MS);
  t.equal(first.kind, 'response', c.logs());
  t.same(first.json, { got: { n: 1 }, api: '127.0.0.1:9001', handler: 'function.handler' });
  t.same((await c.api.invoke({ n: 2 }, {}, WAIT_MS)).json, { got: { n: 2 }, api: '127.0.0.1:9001', handler: 'function.handler' });
});

t.test("the bootstrap's exit status is the container's", async (t) => {
  const c = await start(t, { bootstrap: ['#!/bin/sh\necho "bootstrap exiting" >&2\nexit 7\n', 0o755] });
  t.equal(await c.exited, 7);
  t.match(c.stderr(), 'bootstrap exiting');
});

t.test('a bootstrap that cannot start is reported as Runtime.InvalidEntrypoint', async (t) => {
  const cases: [string, Record<string, [string, number]>, RegExp, number][] = [
    ['not executable', { bootstrap: ['#!/bin/sh\nexit 0\n', 0o644] }, /Permission denied$/, 126],
    ['a missing interpreter', { bootstrap: ['#!/no/such/interpreter\n', 0o755] }, /No such file or directory$/, 127],
    ['no bootstrap at all', { 'function.sh': ['true\n', 0o755] }, /No such file or directory$/, 127],
  ];
  for (const [what, files, message, code] of cases) {
    await t.test(what, async (t) => {
      const c = await start(t, files);
      const post = await c.api.waitForInitError(WAIT_MS);
      t.equal(post.headers['lambda-runtime-function-error-type'], 'Runtime.InvalidEntrypoint');
      t.match(post.json, { errorType: 'Runtime.InvalidEntrypoint', errorMessage: /^Couldn't start the bootstrap \/var\/task\/bootstrap: / });
      t.match((post.json as { errorMessage: string }).errorMessage, message);
      t.equal(await c.exited, code);
    });
  }
});

t.test('SIGTERM sent to the container reaches the bootstrap', async (t) => {
  // `wait` is interruptible by a trapped signal, a foreground curl is not.
  const bootstrap = `#!/bin/bash
${API}
trap 'echo "got TERM" >&2; exit 42' TERM
curl -sS "$API/invocation/next" >/dev/null &
wait $!
`;
  const c = await start(t, { bootstrap: [bootstrap, 0o755] });
  await c.api.waitForPoll(WAIT_MS);
  await docker(['kill', '--signal', 'TERM', c.name]);
  t.equal(await c.exited, 42);
  t.match(c.stderr(), 'got TERM');
});

t.test('orphans re-parented to PID 1 are reaped', async (t) => {
  const bootstrap = `#!/bin/bash
${API}
for i in 1 2 3; do (sleep 0.05 &) ; done
sleep 0.5
ZOMBIES="$(awk '$3 == "Z"' /proc/[0-9]*/stat 2>/dev/null | wc -l)"
HEADERS="$(mktemp)"
curl -sS -LD "$HEADERS" -o /dev/null "$API/invocation/next"
REQUEST_ID="$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)"
curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/response" -d "{\\"zombies\\": $ZOMBIES, \\"pid1\\": \\"$(tr '\\0' ' ' </proc/1/cmdline)\\"}"
sleep 30
`;
  const c = await start(t, { bootstrap: [bootstrap, 0o755] });
  const res = await c.api.invoke({}, {}, WAIT_MS);
  t.equal(res.kind, 'response', c.logs());
  t.same(res.json, { zombies: 0, pid1: '/var/runtime/gantry-relay ' });
});

t.test('gantry/provided image carries the runtime labels and no AWS_EXECUTION_ENV', async (t) => {
  if (!(await requireImage(t, IMAGE))) return;
  const labels = await imageLabels(IMAGE);
  t.equal(labels['gantry.runtime'], 'provided');
  t.match(labels['gantry.runtime.version'], /^debian-12\.\d+$/);
  const env = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config.Env}}', IMAGE])) as string[];
  t.notOk(env.some((e) => e.startsWith('AWS_EXECUTION_ENV=')));
  t.ok(env.includes('LAMBDA_TASK_ROOT=/var/task'));
});
