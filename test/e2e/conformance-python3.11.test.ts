// The runtime conformance suite (test/contract/runtime.contract.ts) against gantry/python3.11.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runtimeContract } from '../contract/runtime.contract.js';
import { zipDirectory } from '../support/zip.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/functions/python3.11/contract');

await runtimeContract(t, {
  runtime: 'python3.11',
  code: await zipDirectory(dir),
  handlers: {
    echo: 'contract.echo',
    counter: 'contract.counter',
    context: 'contract.context',
    env: 'contract.env',
    fail: 'contract.fail',
    sleep: 'contract.sleep',
    big: 'contract.big',
    binary: 'contract.binary',
    print: 'contract.print_',
    initError: 'init_fail.handler',
  },
  failErrorType: 'ValueError',
  traceKey: 'stackTrace',
  initErrorType: 'Runtime.ImportModuleError',
  executionEnv: 'AWS_Lambda_python3.11',
  binary: 'raw',
  version: /^3\.11\.\d+$/,
});
