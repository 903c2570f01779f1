"""The init step and the invoke loop (compat.md §1.1, §1.3), as the official Python RIC runs them.

- init: load the handler; on failure log the error, POST /runtime/init/error and exit 1.
- loop: GET next -> handler(event, context) -> POST response (JSON, or bytes as they are) or
  error ({errorMessage, errorType, requestId, stackTrace}). Only `Exception` is caught: a handler
  that raises SystemExit (sys.exit) ends the process, and the platform reports Runtime.ExitError.
- output: sys.stdout and sys.stderr flush on every write, and both are flushed again before each
  post, so everything an invocation printed has left the process before its result does. The root
  logger writes Lambda's text format (`[LEVEL]\\t<time>\\t<request id>\\t<message>`) to stdout;
  the runtime's own error records go there too, as in the RIC.
- exit codes: 1 when init failed or the Runtime API failed (non-200 next, 5xx or no answer to a
  post). A 4xx answer to a post is logged and the loop goes on.
"""
import logging
import os
import sys
import time

from . import marshal
from .client import RuntimeApiError
from .context import LambdaContext, update_trace_env
from .errors import error_from_exception, error_type_header, format_for_log

EXIT_INIT_FAILED = 1
EXIT_PLATFORM_FAILED = 1


class Unbuffered(object):
    """Wraps a text stream so that every write reaches the file descriptor at once."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def write(self, text):
        n = self.stream.write(text)
        self.stream.flush()
        return n

    def writelines(self, lines):
        self.stream.writelines(lines)
        self.stream.flush()


class _RequestIdFilter(logging.Filter):
    def __init__(self, runtime):
        super().__init__()
        self._runtime = runtime

    def filter(self, record):
        record.aws_request_id = self._runtime.current_request_id or ""
        return True


class _StdoutHandler(logging.Handler):
    """Writes to whatever sys.stdout is at the time (the Unbuffered wrapper)."""

    def emit(self, record):
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


class Runtime(object):
    def __init__(self, client, env=None, exit=sys.exit):
        self._client = client
        self._env = os.environ if env is None else env
        self._exit = exit
        self.current_request_id = None

    def install_stdio(self):
        """Unbuffered stdout/stderr and the Lambda log format on the root logger. Call before
        loading user code."""
        if not isinstance(sys.stdout, Unbuffered):
            sys.stdout = Unbuffered(sys.stdout)
        if not isinstance(sys.stderr, Unbuffered):
            sys.stderr = Unbuffered(sys.stderr)
        logging.Formatter.converter = time.gmtime
        handler = _StdoutHandler()
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
        handler.addFilter(_RequestIdFilter(self))
        root = logging.getLogger()
        root.addHandler(handler)
        level = (self._env.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
        if level in logging._nameToLevel:
            root.setLevel(level)

    def init(self, load):
        """Run `load` (which returns the handler). On failure post init/error and exit."""
        try:
            return load()
        except Exception as e:
            error = error_from_exception(e)
            self._write_log(format_for_log(error))
            try:
                self._client.post_init_error(marshal.to_json(error).encode("utf-8"), error_type_header(error["errorType"]))
            except RuntimeApiError as post_error:
                self._write_log("[ERROR] Runtime API init/error failed: %s\n" % post_error)
            self._exit(EXIT_INIT_FAILED)
            return None

    def run(self, handler):
        """The invoke loop; returns only through exit."""
        while True:
            try:
                inv = self._client.next_invocation()
            except RuntimeApiError as e:
                self._die("Runtime API next failed: %s" % e)
                return
            if not self._invoke(handler, inv):
                return

    def _invoke(self, handler, inv):
        """Handle one invocation; False when the runtime must stop."""
        self.current_request_id = inv.request_id
        update_trace_env(inv.headers, self._env)
        error = None
        try:
            context = LambdaContext(inv.headers, self._env)
            event = marshal.unmarshal_request(inv.body, inv.headers.get("content-type"))
            result = handler(event, context)
            body, content_type = marshal.marshal_response(result)
        except Exception as e:
            error = error_from_exception(e, inv.request_id)
        _flush_stdio()
        try:
            if error is None:
                self._client.post_invocation_response(inv.request_id, body, content_type)
            else:
                self._write_log(format_for_log(error))
                self._client.post_invocation_error(
                    inv.request_id, marshal.to_json(error).encode("utf-8"), error_type_header(error["errorType"])
                )
        except RuntimeApiError as e:
            if not e.fatal:
                # The platform refused the post (stale id, already answered, too large); it
                # decides the invocation's outcome itself. Keep serving.
                self._write_log("[ERROR] Runtime API refused the result: %s\n" % e)
                return True
            self._die("Runtime API post failed: %s" % e)
            return False
        return True

    def _die(self, message):
        self._write_log("[ERROR] %s\n" % message)
        self._exit(EXIT_PLATFORM_FAILED)

    @staticmethod
    def _write_log(text):
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except Exception:
            pass  # stdout gone: nothing sensible left to do


def _flush_stdio():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass  # a closed or replaced stream cannot hold anything back
