// The BUILT gantry/nodejs20 image (npm run images), run the way the control plane runs a
// function container: as uid 993, read-only root, tmpfs /tmp, all capabilities dropped,
// no-new-privileges, --network none, code bind-mounted read-only at /var/task and the socket
// directory bind-mounted read-only at /run/gantry (socket file mode 0666). The fake Runtime API
// listens on that socket. A missing image or Docker engine fails the test; it never skips.
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import type { Test } from 'tap';
import { FakeRuntimeApi } from '../support/fake-runtime-api.js';

const exec = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../fixtures/functions');
const IMAGE = process.env.GANTRY_NODEJS20_IMAGE ?? 'gantry/nodejs20:latest';
const TEST_LABEL = 'gantry.test=runtime-nodejs20-image';
const WAIT_MS = 20_000;

async function docker(args: string[], timeoutMs = 30_000): Promise<string> {
  const { stdout } = await exec('docker', args, { timeout: timeoutMs });
  return stdout.trim();
}

/** Fails (never skips) when Docker or the image is missing; returns false then. */
async function requireImage(t: Test): Promise<boolean> {
  try {
    await docker(['info', '--format', '{{.ServerVersion}}'], 10_000);
  } catch (err) {
    t.fail(`Docker engine not reachable (start it with \`npm run services\`): ${(err as Error).message}`);
    return false;
  }
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE], 10_000);
  } catch {
    t.fail(`image ${IMAGE} is missing: build it with \`npm run images\``);
    return false;
  }
  return true;
}

interface RunningContainer {
  api: FakeRuntimeApi;
  name: string;
  logs: () => string;
}

/** Start the image for fixture `fixture` with `_HANDLER = handler`; removed by t.teardown. */
async function startContainer(t: Test, fixture: string, handler: string): Promise<RunningContainer> {
  const api = await FakeRuntimeApi.start({ socketName: 'runtime.sock' });
  t.teardown(() => api.close());
  const name = `gantry-test-rt-${randomUUID().slice(0, 8)}`;
  const args = [
    'run', '--rm', '--name', name, '--label', TEST_LABEL,
    '--user', '993:993',
    '--read-only', '--tmpfs', '/tmp:rw,size=16m',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '--network', 'none',
    '--memory', '256m', '--pids-limit', '64',
    '-v', `${path.join(fixtures, fixture)}:/var/task:ro`,
    '-v', `${api.dir}:/run/gantry:ro`,
    '-e', `_HANDLER=${handler}`,
    '-e', 'AWS_LAMBDA_FUNCTION_NAME=image-test',
    '-e', 'AWS_LAMBDA_FUNCTION_VERSION=$LATEST',
    '-e', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256',
    '-e', 'AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/image-test',
    '-e', 'AWS_LAMBDA_LOG_STREAM_NAME=2025/01/05/[$LATEST]0123456789abcdef0123456789abcdef',
    '-e', 'AWS_REGION=us-east-1',
    '-e', 'AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001',
    IMAGE,
  ];
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.teardown(async () => {
    await docker(['rm', '-f', name]).catch(() => {});
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { api, name, logs: () => output };
}

t.test('gantry/nodejs20 image answers an echo invocation over the socket', async (t) => {
  if (!(await requireImage(t))) return;
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
  if (!(await requireImage(t))) return;
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
  if (!(await requireImage(t))) return;
  const labels = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', IMAGE])) as Record<
    string,
    string
  >;
  t.equal(labels['gantry.runtime'], 'nodejs20');
  t.match(labels['gantry.runtime.version'], /^v20\.\d+\.\d+$/);
});
