"""Gantry's Python runtime client: python3 /var/runtime/bootstrap.py [socketPath]

Speaks the Lambda Runtime API (/2018-06-01) over a unix socket, default /run/gantry/runtime.sock
(see gantry_runtime/client.py resolve_target for the other sources). Reads _HANDLER and
LAMBDA_TASK_ROOT to load the handler, and AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION,
AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME and AWS_LAMBDA_LOG_STREAM_NAME for the
context; sets _X_AMZN_TRACE_ID per invocation. Without _HANDLER it is a stem cell and first asks
GET /gantry/v1/specialize for its function. Standard library only.
"""
import os
import sys
import time

from gantry_runtime.client import RuntimeApiError, RuntimeClient, resolve_target
from gantry_runtime.handler_loader import load_handler
from gantry_runtime.runtime import Runtime

DEFAULT_SOCKET_PATH = "/run/gantry/runtime.sock"
DEFAULT_TASK_ROOT = "/var/task"


def main(argv):
    env = os.environ
    target = resolve_target(argv[1] if len(argv) > 1 else None, env, DEFAULT_SOCKET_PATH, os.path.exists)
    client = RuntimeClient(target)

    # Started without _HANDLER, this is a stem cell (design.md): it waits for the platform to
    # assign a function, takes that function's environment, and only then sets up logging (which
    # reads AWS_LAMBDA_LOG_LEVEL) and imports the handler. Nothing of the function's exists in
    # this process, or in /var/task, before that answer.
    if not env.get("_HANDLER"):
        try:
            env.update(client.specialize())
        except RuntimeApiError as e:
            sys.stderr.write("[ERROR] Runtime API specialize failed: %s\n" % e)
            sys.exit(1)
        # TZ may have changed; the C library reads it again only when asked.
        time.tzset()

    runtime = Runtime(client, env)
    runtime.install_stdio()

    task_root = env.get("LAMBDA_TASK_ROOT") or DEFAULT_TASK_ROOT
    handler = runtime.init(lambda: load_handler(task_root, env.get("_HANDLER")))
    runtime.run(handler)


if __name__ == "__main__":
    main(sys.argv)
