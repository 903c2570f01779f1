// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/provided, with
// a compiled bootstrap: a C program built here, statically, from
// test/fixtures/functions/provided/c/bootstrap.c (no binary is committed).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { zipDirectory } from '../support/zip.js';

const source = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/functions/provided/c/bootstrap.c');
const build = await mkdtemp(path.join(tmpdir(), 'gantry-c-bootstrap-'));
t.teardown(() => rm(build, { recursive: true, force: true }));
try {
  await promisify(execFile)('cc', ['-O2', '-Wall', '-static', '-o', path.join(build, 'bootstrap'), source], { timeout: 120_000 });
} catch (err) {
  t.fail(`cannot compile the C bootstrap with the host's cc (npm run services installs gcc): ${(err as Error).message}`);
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
  failErrorType: 'InvalidEventDataException',
  initErrorType: 'InvalidFunctionException',
  executionEnv: undefined,
  binary: 'raw',
  version: /^debian-12\.\d+$/,
});
