// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/nodejs20.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { zipDirectory } from '../support/zip.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/functions/nodejs20/contract');

await runtimeContract(t, {
  runtime: 'nodejs20',
  code: await zipDirectory(dir),
  handlers: {
    echo: 'index.echo',
    counter: 'index.counter',
    context: 'index.context',
    env: 'index.env',
    fail: 'index.fail',
    sleep: 'index.sleep',
    big: 'index.big',
    binary: 'index.binary',
    print: 'index.print',
    initError: 'init_fail.handler',
  },
  failErrorType: 'TypeError',
  traceKey: 'trace',
  initErrorType: 'RangeError',
  executionEnv: 'AWS_Lambda_nodejs20.x',
  binary: 'json',
  version: /^v20\.\d+\.\d+$/,
});
