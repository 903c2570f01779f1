/**
 * Runs a BUILT runtime image (npm run images) the way the control plane runs a function container:
 * as uid 993, read-only root, tmpfs /tmp, all capabilities dropped, no-new-privileges,
 * --network none, code bind-mounted read-only at /var/task and the socket directory bind-mounted
 * read-only at /run/gantry (socket file mode 0666), against a FakeRuntimeApi on that socket.
 * A missing image or Docker engine fails the test; it never skips.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { FakeRuntimeApi } from './fake-runtime-api.js';

const exec = promisify(execFile);

export async function docker(args: string[], timeoutMs = 30_000): Promise<string> {
  const { stdout } = await exec('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Fails (never skips) when Docker or the image is missing; returns false then. */
export async function requireImage(t: Test, image: string): Promise<boolean> {
  try {
    await docker(['info', '--format', '{{.ServerVersion}}'], 10_000);
  } catch (err) {
    t.fail(`Docker engine not reachable (start it with \`npm run services\`): ${(err as Error).message}`);
    return false;
  }
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', image], 10_000);
  } catch {
    t.fail(`image ${image} is missing: build it with \`npm run images\``);
    return false;
  }
  return true;
}

export interface RunningContainer {
  readonly api: FakeRuntimeApi;
  readonly name: string;
  /** stdout and stderr so far, interleaved. */
  readonly logs: () => string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the `docker run` exit code once the container has stopped. */
  readonly exited: Promise<number | null>;
}

export interface ContainerOptions {
  readonly image: string;
  /** Host directory mounted read-only at /var/task. */
  readonly taskDir: string;
  readonly handler: string;
  /** Label value that marks this test file's containers. */
  readonly testLabel: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Start the image with `_HANDLER = handler`; removed by t.teardown. */
export async function startRuntimeContainer(t: Test, o: ContainerOptions): Promise<RunningContainer> {
  const api = await FakeRuntimeApi.start({ socketName: 'runtime.sock' });
  t.teardown(() => api.close());
  const name = `gantry-test-rt-${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    _HANDLER: o.handler,
    AWS_LAMBDA_FUNCTION_NAME: 'image-test',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/image-test',
    AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/05/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    ...o.env,
  };
  const args = [
    'run', '--rm', '--name', name, '--label', `gantry.test=${o.testLabel}`,
    '--user', '993:993',
    '--read-only', '--tmpfs', '/tmp:rw,size=32m',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '--network', 'none',
    '--memory', '256m', '--pids-limit', '64',
    '-v', `${o.taskDir}:/var/task:ro`,
    '-v', `${api.dir}:/run/gantry:ro`,
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    o.image,
  ];
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let all = '';
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    all += c.toString();
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    all += c.toString();
    err += c.toString();
  });
  // 'close', not 'exit': by then everything the container wrote has been read from its pipes.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  t.teardown(async () => {
    await docker(['rm', '-f', name]).catch(() => {});
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { api, name, logs: () => all, stdout: () => out, stderr: () => err, exited };
}

/** The image's labels. */
export async function imageLabels(image: string): Promise<Record<string, string>> {
  return JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', image])) as Record<string, string>;
}
