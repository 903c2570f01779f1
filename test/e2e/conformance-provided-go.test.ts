// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/provided, with
// a Go function: test/fixtures/functions/provided/go, built here by the host's Go as Lambda's
// provided.al2023 wants it (CGO_ENABLED=0, a static binary named bootstrap; no binary is
// committed). Then the same binary as a go1.x function: runtime "go1.x", no bootstrap, the
// handler naming the executable.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { deployFunction, startStack } from '../support/stack.js';
import { zipDirectory } from '../support/zip.js';

const source = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/functions/provided/go');
const run = promisify(execFile);

const goVersion = await run('go', ['version'], { timeout: 30_000 }).then(
  (r) => r.stdout.trim(),
  () => undefined,
);

if (goVersion === undefined) {
  t.plan(0, 'no `go` on PATH: the Go function cannot be built (npm run services installs golang-go)');
} else {
  t.comment(`building the Go function with ${goVersion}`);
  const build = await mkdtemp(path.join(tmpdir(), 'gantry-go-bootstrap-'));
  t.teardown(() => rm(build, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local' };
  // Go needs a build cache; a CI shell may have no HOME to put it under.
  if (env.GOCACHE === undefined && env.HOME === undefined && env.XDG_CACHE_HOME === undefined) env.GOCACHE = path.join(tmpdir(), 'gantry-go-cache');
  try {
    await run('go', ['build', '-trimpath', '-o', path.join(build, 'bootstrap'), '.'], { cwd: source, env, timeout: 300_000 });
  } catch (err) {
    t.fail(`cannot build the Go function with ${goVersion}: ${(err as Error).message}`);
    throw err;
  }

  await runtimeContract(t, {
    runtime: 'provided',
    code: await zipDirectory(build),
    handlers: {
      echo: 'echo',
      counter: 'counter',
      context: 'context',
      env: 'env',
      fail: 'fail',
      sleep: 'sleep',
      big: 'big',
      binary: 'binary',
      print: 'print',
      initError: 'init_fail',
    },
    // errors.New's type, as aws-lambda-go names it.
    failErrorType: 'errorString',
    // A Go function whose setup fails exits before it polls.
    initErrorType: 'Runtime.ExitError',
    executionEnv: undefined,
    binary: 'json',
    version: /^debian-12\.\d+$/,
    awsName: 'provided.al2023',
  });

  await t.test('go1.x: the executable the handler names runs, without a bootstrap', async (t) => {
    const stack = await startStack(t, { env: { GANTRY_STEM_CELLS_PER_RUNTIME: '0' } });
    const dir = await mkdtemp(path.join(tmpdir(), 'gantry-go1x-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await copyFile(path.join(build, 'bootstrap'), path.join(dir, 'echo'));
    const created = await deployFunction(t, stack, 'go1x-echo', await zipDirectory(dir), { runtime: 'go1.x', handler: 'echo' });
    t.equal(created.runtime, 'provided', 'stored as provided');
    const res = await stack.admin('POST', '/v1/functions/go1x-echo/invoke', { hello: 'go1.x' });
    t.equal(res.headers.get('x-gantry-function-error'), null);
    t.same(await res.json(), { hello: 'go1.x' });
    // As on Lambda, a zip without the handler's executable deploys (a layer or a later update may
    // bring it) with a warning, and its invocations fail until then.
    const accepted = await stack.admin('POST', '/v1/functions', {
      name: 'go1x-wrong-name',
      runtime: 'go1.x',
      handler: 'main',
      code: { zipBase64: (await zipDirectory(dir)).toString('base64') },
    });
    t.equal(accepted.status, 201, 'a handler naming no executable of the zip is accepted at create');
    t.match(await accepted.json(), { warnings: [/no file "bootstrap"/] });
    const failed = await stack.admin('POST', '/v1/functions/go1x-wrong-name/invoke', {});
    t.equal(failed.headers.get('x-gantry-function-error'), 'Unhandled', 'and its invocation is a function error');
    t.match(await failed.json(), { errorType: /^Runtime\./ });
  });
}
