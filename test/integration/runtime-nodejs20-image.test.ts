// The BUILT gantry/nodejs20 image (npm run images), run the way the control plane runs a
// function container: as uid 993, read-only root, tmpfs /tmp, all capabilities dropped,
// no-new-privileges, --network none, code bind-mounted read-only at /var/task and the socket
// directory bind-mounted read-only at /run/gantry (socket file mode 0666). The fake Runtime API
// listens on that socket. A missing image or Docker engine fails the test; it never skips.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { imageLabels, requireImage, startRuntimeContainer } from '../support/runtime-container.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../fixtures/functions');
const IMAGE = process.env.GANTRY_NODEJS20_IMAGE ?? 'gantry/nodejs20:latest';
const WAIT_MS = 20_000;

/** Start the image for fixture `fixture` with `_HANDLER = handler`; removed by t.teardown. */
function startContainer(t: Test, fixture: string, handler: string) {
  return startRuntimeContainer(t, { image: IMAGE, taskDir: path.join(fixtures, fixture), handler, testLabel: 'runtime-nodejs20-image' });
}

t.test('gantry/nodejs20 image answers an echo invocation over the socket', async (t) => {
  if (!(await requireImage(t, IMAGE))) return;
  const c = await startContainer(t, 'echo', 'index.handler');
  await c.api.waitForPoll(WAIT_MS).catch((err: Error) => {
    throw new Error(`${err.message}; container output: ${c.logs()}`);
  });
  const event = { hello: 'container', list: [1, 2, 3] };
  const res = await c.api.invoke(event, {}, WAIT_MS);
  t.equal(res.kind, 'response');
  t.same(res.json, event);
  t.match(res.headers['content-type'], /^application\/json/);
});

t.test('gantry/nodejs20 image runs the function as uid 993 in /var/task with the Lambda environment', async (t) => {
  if (!(await requireImage(t, IMAGE))) return;
  const c = await startContainer(t, 'context', 'index.handler');
  const res = await c.api.invoke({}, { requestId: 'img-ctx' }, WAIT_MS);
  t.equal(res.kind, 'response', `container output: ${c.logs()}`);
  t.match(res.json, {
    awsRequestId: 'img-ctx',
    functionName: 'image-test',
    memoryLimitInMB: '256',
    uid: 993,
    gid: 993,
    cwd: '/var/task',
    env: {
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_REGION: 'us-east-1',
    },
    nodeVersion: /^v20\./,
  });
});

t.test('gantry/nodejs20 image carries the runtime labels', async (t) => {
  if (!(await requireImage(t, IMAGE))) return;
  const labels = await imageLabels(IMAGE);
  t.equal(labels['gantry.runtime'], 'nodejs20');
  t.match(labels['gantry.runtime.version'], /^v20\.\d+\.\d+$/);
});
