"""Lambda Runtime API client (compat.md §1.1-1.3) over a unix socket (Gantry's own transport,
design.md "Why a unix socket") or host:port TCP (what stock clients use).

Standard library only: http.client with one keep-alive connection, like the native client of the
official RICs. Bodies are sent with Content-Length, never chunked. `next` is a long poll and has no
timeout; posts are bounded.
"""
import errno
import http.client
import json
import socket
import time
from urllib.parse import quote

API_PREFIX = "/2018-06-01"

# Connect failures that can mean "the platform's socket is not listening yet".
_RETRYABLE_CONNECT_ERRNOS = (errno.ENOENT, errno.ECONNREFUSED)
_CONNECT_RETRY_WINDOW_S = 2.0
_CONNECT_RETRY_INTERVAL_S = 0.025

POST_TIMEOUT_S = 60.0
INIT_ERROR_TIMEOUT_S = 10.0


class RuntimeApiError(Exception):
    """A Runtime API call failed. `fatal` means the platform is gone or broken: the runtime exits."""

    def __init__(self, message, status=None, fatal=True):
        super().__init__(message)
        self.status = status
        self.fatal = fatal


class NextInvocation(object):
    __slots__ = ("request_id", "body", "headers")

    def __init__(self, request_id, body, headers):
        self.request_id = request_id
        self.body = body
        self.headers = headers


class _ConnectFailed(Exception):
    def __init__(self, cause):
        super().__init__(str(cause))
        self.cause = cause


class _UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over AF_UNIX: only the transport differs; Host is `localhost`."""

    def __init__(self, path):
        super().__init__("localhost")
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def resolve_target(argv_socket_path, env, default_socket_path, socket_exists):
    """Where the Runtime API is: an explicit socket path (argv) wins; else
    $GANTRY_RUNTIME_API_SOCKET; else AWS_LAMBDA_RUNTIME_API (host:port) when the default socket
    does not exist; else the default socket. Returns ("unix", path) or ("tcp", host, port)."""
    if argv_socket_path:
        return ("unix", argv_socket_path)
    if env.get("GANTRY_RUNTIME_API_SOCKET"):
        return ("unix", env["GANTRY_RUNTIME_API_SOCKET"])
    api = env.get("AWS_LAMBDA_RUNTIME_API")
    if api and not socket_exists(default_socket_path):
        host, sep, port = api.rpartition(":")
        if not sep:
            host, port = api, "80"
        return ("tcp", host.strip("[]"), int(port))
    return ("unix", default_socket_path)


class RuntimeClient(object):
    def __init__(self, target):
        self._target = target
        self._conn = None

    def next_invocation(self):
        """Long-poll the next invocation. Any non-200, or a 200 without a request id, is fatal."""
        path = API_PREFIX + "/runtime/invocation/next"
        status, headers, body = self._request("GET", path, None, {}, None)
        if status != 200:
            raise RuntimeApiError("GET %s answered %d: %s" % (path, status, _snippet(body)), status)
        request_id = headers.get("lambda-runtime-aws-request-id")
        if not request_id:
            raise RuntimeApiError("GET %s answered 200 without Lambda-Runtime-Aws-Request-Id" % path, status)
        return NextInvocation(request_id, body, headers)

    def specialize(self):
        """Stem cells only: block until the platform assigns a function, then return the
        environment it gives (handler, function name, the function's own variables, ...)."""
        path = "/gantry/v1/specialize"
        status, _, body = self._request("GET", path, None, {}, None)
        if status != 200:
            raise RuntimeApiError("GET %s answered %d: %s" % (path, status, _snippet(body)), status)
        try:
            parsed = json.loads(body.decode("utf-8"))
        except ValueError as e:
            raise RuntimeApiError("GET %s answered a body that is not JSON: %s" % (path, e), status)
        environment = parsed.get("environment") if isinstance(parsed, dict) else None
        return {str(k): str(v) for k, v in environment.items()} if isinstance(environment, dict) else {}

    def post_invocation_response(self, request_id, body, content_type):
        self._post(
            "%s/runtime/invocation/%s/response" % (API_PREFIX, _quote(request_id)),
            body,
            {"Content-Type": content_type},
        )

    def post_invocation_error(self, request_id, error_json, error_type):
        self._post(
            "%s/runtime/invocation/%s/error" % (API_PREFIX, _quote(request_id)),
            error_json,
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error_type},
        )

    def post_init_error(self, error_json, error_type):
        self._post(
            API_PREFIX + "/runtime/init/error",
            error_json,
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error_type},
            INIT_ERROR_TIMEOUT_S,
        )

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _post(self, path, body, headers, timeout=POST_TIMEOUT_S):
        """2xx: done. 4xx: the platform refused this post (stale id, already answered, too large),
        not fatal. 5xx or no answer: fatal."""
        status, _, data = self._request("POST", path, body, headers, timeout)
        if 200 <= status < 300:
            return
        raise RuntimeApiError("POST %s answered %d: %s" % (path, status, _snippet(data)), status, fatal=status >= 500)

    def _request(self, method, path, body, headers, timeout):
        deadline = time.monotonic() + _CONNECT_RETRY_WINDOW_S
        while True:
            try:
                return self._request_once(method, path, body, headers, timeout, True)
            except _ConnectFailed as e:
                code = getattr(e.cause, "errno", None)
                if code not in _RETRYABLE_CONNECT_ERRNOS or time.monotonic() >= deadline:
                    raise RuntimeApiError("%s %s failed: cannot connect: %s" % (method, path, e.cause))
                time.sleep(_CONNECT_RETRY_INTERVAL_S)
            except (OSError, http.client.HTTPException) as e:
                raise RuntimeApiError("%s %s failed: %s" % (method, path, e))

    def _request_once(self, method, path, body, headers, timeout, may_retry):
        reused = self._conn is not None
        if not reused:
            conn = self._new_connection()
            try:
                conn.connect()
            except OSError as e:
                raise _ConnectFailed(e)
            self._conn = conn
        conn = self._conn
        try:
            conn.sock.settimeout(timeout)
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            data = res.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # A kept-alive connection the platform closed in the meantime: one fresh attempt.
            self.close()
            if reused and may_retry:
                return self._request_once(method, path, body, headers, timeout, False)
            raise
        except BaseException:
            self.close()
            raise
        if res.will_close:
            self.close()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data

    def _new_connection(self):
        if self._target[0] == "unix":
            return _UnixHTTPConnection(self._target[1])
        return http.client.HTTPConnection(self._target[1], self._target[2])


def _quote(request_id):
    return quote(request_id, safe="")


def _snippet(data):
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    return text if len(text) <= 200 else text[:200] + "..."
