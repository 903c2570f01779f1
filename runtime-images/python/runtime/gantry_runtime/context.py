"""The `context` object handed to the handler (compat.md §1.6, Python), built per invocation from
the environment and the `next` response headers, with the attribute names of the official RIC's
LambdaContext."""
import json
import os
import sys
import time

from .errors import FaultException

_H_REQUEST_ID = "lambda-runtime-aws-request-id"
_H_DEADLINE_MS = "lambda-runtime-deadline-ms"
_H_FUNCTION_ARN = "lambda-runtime-invoked-function-arn"
_H_TRACE_ID = "lambda-runtime-trace-id"
_H_CLIENT_CONTEXT = "lambda-runtime-client-context"
_H_COGNITO_IDENTITY = "lambda-runtime-cognito-identity"
_H_TENANT_ID = "lambda-runtime-aws-tenant-id"


class LambdaContext(object):
    def __init__(self, headers, env=None):
        env = os.environ if env is None else env
        self.aws_request_id = headers.get(_H_REQUEST_ID)
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get(_H_FUNCTION_ARN)
        self.tenant_id = headers.get(_H_TENANT_ID)

        client_context = _parse_json_header(headers.get(_H_CLIENT_CONTEXT), "Client Context")
        self.client_context = _from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)

        identity = _parse_json_header(headers.get(_H_COGNITO_IDENTITY), "Cognito Identity")
        self.identity = _from_dict(CognitoIdentity, {})
        if identity is not None:
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

        try:
            self._deadline_ms = int(headers.get(_H_DEADLINE_MS) or 0)
        except ValueError:
            self._deadline_ms = 0

    def get_remaining_time_in_millis(self):
        """Milliseconds left before the deadline, never below 0."""
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,identity=%s,"
            "tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


class _Slots(object):
    __slots__ = ()

    def __repr__(self):
        fields = ",".join("%s=%s" % (f, getattr(self, f, None)) for f in self.__slots__)
        return "%s([%s])" % (type(self).__name__, fields)


class CognitoIdentity(_Slots):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")


class Client(_Slots):
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")


class ClientContext(_Slots):
    __slots__ = ("custom", "env", "client")


def update_trace_env(headers, env=None):
    """Copy the X-Ray trace header into _X_AMZN_TRACE_ID, or delete it when absent."""
    env = os.environ if env is None else env
    trace_id = headers.get(_H_TRACE_ID)
    if trace_id is not None:
        env["_X_AMZN_TRACE_ID"] = trace_id
    else:
        env.pop("_X_AMZN_TRACE_ID", None)


def _parse_json_header(value, name):
    if not value:
        return None
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (name, e)
        )


def _from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field) if isinstance(values, dict) else None)
    return obj
