// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/provided, with
// a tutorial-style bootstrap written in bash that speaks the Runtime API with curl over TCP
// (AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001, relayed to the container's socket).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { zipDirectory } from '../support/zip.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/functions/provided/shell');

await runtimeContract(t, {
  runtime: 'provided',
  code: await zipDirectory(dir),
  handlers: {
    echo: 'function.echo_',
    counter: 'function.counter',
    context: 'function.context',
    env: 'function.env_',
    fail: 'function.fail',
    sleep: 'function.sleep_',
    big: 'function.big',
    binary: 'function.binary',
    print: 'function.print',
    initError: 'init_fail.handler',
  },
  failErrorType: 'InvalidEventDataException',
  initErrorType: 'InvalidFunctionException',
  executionEnv: undefined,
  binary: 'raw',
  version: /^debian-12\.\d+$/,
});
