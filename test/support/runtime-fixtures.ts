/**
 * The conformance fixtures (test/contract/runtime.contract.ts) per language: one fixture function
 * serves every line of its language (nodejs20/22/24, python3.11/3.13, ruby3.3), so a new version is one
 * more test file naming it, not a copy of the fixture.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeFixture } from '../contract/runtime.contract.js';
import { zipDirectory } from './zip.js';

const functions = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/functions');

export async function nodejsFixture(major: 20 | 22 | 24): Promise<RuntimeFixture> {
  return {
    runtime: `nodejs${major}`,
    code: await zipDirectory(path.join(functions, 'nodejs20/contract')),
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
    executionEnv: `AWS_Lambda_nodejs${major}.x`,
    awsName: `nodejs${major}.x`,
    binary: 'json',
    version: new RegExp(`^v${major}\\.\\d+\\.\\d+$`),
    stemCells: true,
  };
}

export async function pythonFixture(minor: '3.11' | '3.13'): Promise<RuntimeFixture> {
  return {
    runtime: `python${minor}`,
    code: await zipDirectory(path.join(functions, 'python3.11/contract')),
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
    executionEnv: `AWS_Lambda_python${minor}`,
    binary: 'raw',
    version: new RegExp(`^${minor.replace('.', '\\.')}\\.\\d+$`),
    stemCells: true,
  };
}

export async function rubyFixture(): Promise<RuntimeFixture> {
  return {
    runtime: 'ruby3.3',
    code: await zipDirectory(path.join(functions, 'ruby/contract')),
    handlers: {
      echo: 'contract.echo',
      counter: 'contract.Contract::Counter.call',
      context: 'contract.report_context',
      env: 'contract.report_env',
      fail: 'contract.Contract.fail_on_request',
      sleep: 'contract.Contract.nap',
      big: 'contract.Contract.big',
      binary: 'contract.Contract.binary',
      print: 'contract.Contract.print_lines',
      initError: 'init_fail.handler',
    },
    // AWS's Ruby runtime names the phase and the class: Function<RuntimeError>, Init<LoadError>.
    failErrorType: 'Function<RuntimeError>',
    traceKey: 'stackTrace',
    initErrorType: 'Init<LoadError>',
    executionEnv: 'AWS_Lambda_ruby3.3',
    binary: 'raw',
    version: /^3\.3\.\d+$/,
    stemCells: true,
  };
}

/** java21 on a zip with classes at the root and its own aws-lambda-java-core in lib/ (see java-build.ts). */
export function javaFixture(code: Buffer): RuntimeFixture {
  const handler = (method: string) => `example.Contract::${method}`;
  return {
    runtime: 'java21',
    code,
    handlers: {
      echo: handler('echo'),
      counter: handler('counter'),
      context: handler('context'),
      env: handler('env'),
      fail: handler('fail'),
      sleep: handler('sleep'),
      big: handler('big'),
      binary: handler('binary'),
      print: handler('print'),
      initError: 'example.InitFail::handler',
    },
    failErrorType: 'java.lang.IllegalStateException',
    traceKey: 'stackTrace',
    initErrorType: 'java.lang.ExceptionInInitializerError',
    executionEnv: 'AWS_Lambda_java21',
    binary: 'json',
    version: /^21\.\d+\.\d+$/,
    stemCells: true,
  };
}

export function dotnetMonoFixture(code: Buffer): RuntimeFixture {
  return {
    runtime: 'dotnet-mono',
    code,
    handlers: {
      echo: 'Contract::Contract.Function::Echo',
      counter: 'Contract::Contract.Function::Counter',
      context: 'Contract::Contract.Function::Context',
      env: 'Contract::Contract.Function::Env',
      fail: 'Contract::Contract.Function::Fail',
      sleep: 'Contract::Contract.Function::Sleep',
      big: 'Contract::Contract.Function::Big',
      binary: 'Contract::Contract.Function::Binary',
      print: 'Contract::Contract.Function::Print',
      initError: 'Contract::Contract.InitFail::Handler',
    },
    failErrorType: 'InvalidOperationException',
    traceKey: 'stackTrace',
    // As AWS's .NET runtime: the constructor's exception arrives wrapped by reflection.
    initErrorType: 'TargetInvocationException',
    executionEnv: 'AWS_Lambda_dotnet-mono',
    binary: 'raw',
    version: /^6\.\d+\.\d+\.\d+$/,
    stemCells: true,
  };
}
