"""Gantry's Python runtime client: python3 /var/runtime/bootstrap.py [socketPath]

Speaks the Lambda Runtime API (/2018-06-01) over a unix socket, default /run/gantry/runtime.sock
(see gantry_runtime/client.py resolve_target for the other sources). Reads _HANDLER and
LAMBDA_TASK_ROOT to load the handler, and AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION,
AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME and AWS_LAMBDA_LOG_STREAM_NAME for the
context; sets _X_AMZN_TRACE_ID per invocation. Standard library only.
"""
import os
import sys

from gantry_runtime.client import RuntimeClient, resolve_target
from gantry_runtime.handler_loader import load_handler
from gantry_runtime.runtime import Runtime

DEFAULT_SOCKET_PATH = "/run/gantry/runtime.sock"
DEFAULT_TASK_ROOT = "/var/task"


def main(argv):
    env = os.environ
    target = resolve_target(argv[1] if len(argv) > 1 else None, env, DEFAULT_SOCKET_PATH, os.path.exists)
    runtime = Runtime(RuntimeClient(target), env)
    runtime.install_stdio()

    # A stem cell will first ask the platform for its function (GET /gantry/v1/specialize),
    # apply the environment it gets, and only then load the handler below.
    task_root = env.get("LAMBDA_TASK_ROOT") or DEFAULT_TASK_ROOT
    handler = runtime.init(lambda: load_handler(task_root, env.get("_HANDLER")))
    runtime.run(handler)


if __name__ == "__main__":
    main(sys.argv)
