// java21 stem cells on the real engine: a started JVM with no function in it serves a function's
// first call with that function's classes, environment (System.getenv) and memory; a class that
// fails to initialise in a specialised cell is the same init error a new container reports, and a
// missing class the same invocation error. Also prints the first-call times of both kinds.
import t from 'tap';
import { buildJavaFixtures } from '../support/java-build.js';
import { deployFunction, eventually, startStack } from '../support/stack.js';

const packages = await buildJavaFixtures(t);
const stack = await startStack(t, { env: { GANTRY_STEM_CELL_RUNTIMES: 'java21', GANTRY_STEM_CELLS_PER_RUNTIME: '1', GANTRY_INIT_FAILURE_BACKOFF_MS: '0' } });

/** Ready (parked) java21 stem cells, as the control plane's metrics report them. */
const javaCells = async () => {
  const text = await (await fetch(`${stack.controlPlaneUrl}/metrics`)).text();
  return Number(/^gantry_stem_cells\{runtime="java21"\} (\d+)$/m.exec(text)?.[1] ?? 0);
};
const invoke = async (name: string) => {
  const started = Date.now();
  const res = await stack.admin('POST', `/v1/functions/${name}/invoke`, {});
  return { res, ms: Date.now() - started, json: (await res.json()) as any };
};
const java = (handler: string, memoryMb: number, environment: Record<string, string> = {}) => ({ runtime: 'java21', handler, memoryMb, environment });

let firstStemCellMs = 0;

await t.test('the first call of a java function is served by a prewarmed JVM, as that function', async (t) => {
  t.ok(await eventually(async () => (await javaCells()) >= 1, 90_000), 'a java21 stem cell is ready');
  await deployFunction(t, stack, 'java-stemmed', packages.bundled, java('example.Contract::env', 128, { MY_VAR: 'mine' }));
  const first = await invoke('java-stemmed');
  t.equal(first.res.headers.get('x-gantry-cold-start-kind'), 'stem-cell');
  t.match(first.json.env, { MY_VAR: 'mine', _HANDLER: 'example.Contract::env', AWS_LAMBDA_FUNCTION_NAME: 'java-stemmed', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' }, 'System.getenv() is the function\'s');
  const second = await invoke('java-stemmed');
  t.equal(second.res.headers.get('x-gantry-cold-start'), 'false', 'the specialised JVM keeps serving');
  firstStemCellMs = first.ms;
});

await t.test('in a specialised JVM, a failing class initialiser is the init error and a missing class the invocation error', async (t) => {
  t.ok(await eventually(async () => (await javaCells()) >= 1, 90_000), 'a java21 stem cell is ready');
  await deployFunction(t, stack, 'java-init-fail', packages.bundled, java('example.InitFail::handler', 128));
  const failed = await invoke('java-init-fail');
  t.equal(failed.res.headers.get('x-gantry-cold-start-kind'), 'stem-cell');
  t.equal(failed.res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.same(failed.json, { errorMessage: 'Error loading class example.InitFail', errorType: 'java.lang.ExceptionInInitializerError' });
  t.ok(await eventually(async () => (await javaCells()) >= 1, 90_000), 'the pool refills');
  await deployFunction(t, stack, 'java-no-class', packages.bundled, java('example.Missing::handle', 128));
  const missing = await invoke('java-no-class');
  t.equal(missing.res.headers.get('x-gantry-cold-start-kind'), 'stem-cell');
  t.same(missing.json, { errorMessage: 'Class not found: example.Missing', errorType: 'java.lang.ClassNotFoundException' });
});

// Last: a function of another memory size makes the pool learn that shape too, and the cases
// above count on every ready cell being a 128 MB one.
await t.test('the same function on a new container, for comparison', async (t) => {
  await deployFunction(t, stack, 'java-container', packages.bundled, java('example.Contract::env', 256, { MY_VAR: 'mine' }));
  const container = await invoke('java-container');
  t.equal(container.res.headers.get('x-gantry-cold-start-kind'), 'container', 'no cell of 256 MB exists yet');
  t.match(container.json.env, { MY_VAR: 'mine', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' });
  t.comment(`first call: stem cell ${firstStemCellMs} ms, new container ${container.ms} ms`);
});
