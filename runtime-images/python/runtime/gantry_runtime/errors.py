"""Error types and the ErrorRequest body the runtime posts (compat.md §1.3), shaped like the
official Python runtime interface client's: {"errorMessage", "errorType", "requestId", "stackTrace"}.
"""
import os
import re
import traceback

_RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class FaultException(Exception):
    """A failure the runtime itself diagnoses (loading the handler, (un)marshalling)."""

    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


def make_error(message, error_type, stack_trace, request_id=None):
    """The ErrorRequest body; `requestId` is "" for init errors, as in the RIC."""
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def error_from_exception(exc, request_id=None):
    """ErrorRequest for any exception: a FaultException keeps its own type, message and trace;
    anything else gives the class name, str(exc) and the traceback without the runtime's frames."""
    if isinstance(exc, FaultException):
        return make_error(exc.msg, exc.exception_type, exc.trace, request_id)
    return make_error(str(exc), type(exc).__name__, user_stack(exc.__traceback__), request_id)


def user_stack(tb):
    """traceback.format_list of the frames from the first one outside the runtime's own code."""
    frames = traceback.extract_tb(tb)
    for i, frame in enumerate(frames):
        if not frame.filename.startswith(_RUNTIME_DIR + os.sep):
            return traceback.format_list(frames[i:])
    return traceback.format_list(frames)


def format_for_log(error):
    """The RIC's text log record of a failure: one record whose lines are joined with CR, so a
    line-based log reader keeps it together; indentation becomes no-break spaces."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    return "\r".join(lines) + "\n"


_HEADER_SAFE = re.compile(r"^[\x21-\x7e]{1,200}$")


def error_type_header(error_type):
    """A header-safe value for Lambda-Runtime-Function-Error-Type."""
    return error_type if isinstance(error_type, str) and _HEADER_SAFE.match(error_type) else "Runtime.Unknown"
