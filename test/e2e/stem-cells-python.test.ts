// python3.11 stem cells on the real engine: a prewarmed Python runtime with no function in it
// serves a function's first call, with that function's code, environment and log level only; an
// import error in a specialised cell is the same init error a new container reports.
import t from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { makeZip } from '../support/zip.js';

const stack = await startStack(t, { env: { GANTRY_STEM_CELLS_PER_RUNTIME: '1', GANTRY_INIT_FAILURE_BACKOFF_MS: '0' } });

/** Ready (parked) python stem cells, as the control plane's metrics report them. */
const pythonCells = async () => {
  const text = await (await fetch(`${stack.controlPlaneUrl}/metrics`)).text();
  return Number(/^gantry_stem_cells\{runtime="python3\.11"\} (\d+)$/m.exec(text)?.[1] ?? 0);
};
const invoke = (name: string) => stack.admin('POST', `/v1/functions/${name}/invoke`, {});

const APP = `
import logging, os, time
STARTED = time.time()

def handler(event, context):
    return {
        "files": sorted(os.listdir("/var/task")),
        "mine": os.environ.get("MY_VAR"),
        "handler": os.environ.get("_HANDLER"),
        "name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "logLevel": logging.getLevelName(logging.getLogger().level),
        "pid": os.getpid(),
    }
`;

await t.test('the first call of a python function is served by a prewarmed stem cell', async (t) => {
  t.ok(await eventually(async () => (await pythonCells()) >= 1, 60_000), 'a python stem cell is ready');
  const python = { runtime: 'python3.11', handler: 'app.handler', environment: { MY_VAR: 'mine', AWS_LAMBDA_LOG_LEVEL: 'WARNING' } };
  await deployFunction(t, stack, 'py-stemmed', makeZip([{ name: 'app.py', content: APP }]), python);
  const first = await invoke('py-stemmed');
  t.equal(first.headers.get('x-gantry-cold-start'), 'true');
  t.equal(first.headers.get('x-gantry-cold-start-kind'), 'stem-cell');
  const body = (await first.json()) as Record<string, unknown>;
  t.match(body, { files: ['app.py'], mine: 'mine', handler: 'app.handler', name: 'py-stemmed', memory: '128', logLevel: 'WARNING' }, 'its own code, environment and log level');
  const second = await invoke('py-stemmed');
  t.equal(second.headers.get('x-gantry-cold-start'), 'false');
  t.equal(((await second.json()) as { pid: number }).pid, body.pid, 'the specialised process keeps serving');
  t.ok(await eventually(async () => (await pythonCells()) >= 1, 60_000), 'the pool refills');
});

await t.test('an import error in a specialised python cell is the init error', async (t) => {
  t.ok(await eventually(async () => (await pythonCells()) >= 1, 60_000), 'a python stem cell is ready');
  await deployFunction(t, stack, 'py-broken', makeZip([{ name: 'app.py', content: 'import no_such_module\ndef handler(e, c):\n    return 1\n' }]), {
    runtime: 'python3.11',
    handler: 'app.handler',
  });
  const res = await invoke('py-broken');
  t.equal(res.status, 200);
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.equal(res.headers.get('x-gantry-cold-start-kind'), 'stem-cell');
  t.match(await res.json(), { errorType: 'Runtime.ImportModuleError', errorMessage: /Unable to import module 'app'/ });
});
