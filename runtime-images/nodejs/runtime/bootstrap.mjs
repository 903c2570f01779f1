// Gantry's Node.js runtime client: node /var/runtime/bootstrap.mjs [socketPath]
//
// Speaks the Lambda Runtime API (/2018-06-01) over a unix socket, default
// /run/gantry/runtime.sock (see runtime-client.mjs resolveTarget for the other sources).
// Without _HANDLER it is a stem cell and first asks GET /gantry/v1/specialize for its function.
// Reads _HANDLER and LAMBDA_TASK_ROOT to load the handler, and AWS_LAMBDA_FUNCTION_NAME,
// AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME and
// AWS_LAMBDA_LOG_STREAM_NAME for the context; sets _X_AMZN_TRACE_ID per invocation.
// Prints nothing to stdout; its own diagnostics (invoke errors, fatal problems) go to stderr
// as Lambda-style log lines. No npm dependencies; only node: built-ins are imported.
import fs from 'node:fs';
import { RuntimeClient, resolveTarget } from './runtime-client.mjs';
import { Runtime } from './runtime.mjs';
import { loadHandler } from './user-function.mjs';

const DEFAULT_SOCKET_PATH = '/run/gantry/runtime.sock';
const DEFAULT_TASK_ROOT = '/var/task';

async function main() {
  const env = process.env;
  const target = resolveTarget({
    argvSocketPath: process.argv[2],
    env,
    defaultSocketPath: DEFAULT_SOCKET_PATH,
    socketExists: (p) => fs.existsSync(p),
  });
  const client = new RuntimeClient(target);
  const runtime = new Runtime({ client, env });
  runtime.installProcessHooks();

  // Started without _HANDLER, this is a stem cell (design.md): it waits for the platform to
  // assign a function, takes that function's environment, and only then loads the handler.
  // Nothing of the function's exists in this process, or in /var/task, before that answer.
  if (!env._HANDLER) Object.assign(env, await client.specialize());
  const taskRoot = env.LAMBDA_TASK_ROOT || DEFAULT_TASK_ROOT;
  const handler = await runtime.init(() => loadHandler(taskRoot, env._HANDLER));
  if (handler) runtime.run(handler);
}

main().catch((err) => {
  process.stderr.write(`${new Date().toISOString()}\tundefined\tERROR\tRuntime bootstrap failed: ${err && err.stack}\n`);
  process.exit(1);
});
