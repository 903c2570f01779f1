"""Resolves and imports the handler named by `_HANDLER` (compat.md §1.5, Python), as the official
RIC does: `module.function` split at the LAST dot; the module may be a dotted package path
(`pkg.sub.app.handler`) or use `/` for directories (`src/app.handler`). The task root goes first
on sys.path, so the function's own modules and the dependencies vendored in its zip shadow
everything else.

Kept apart from the invoke loop so that a stem cell can first learn its handler from the platform
(GET /gantry/v1/specialize) and only then call load_handler().
"""
import importlib
import sys

from .errors import FaultException


def load_handler(task_root, handler):
    """Import the module and return the handler attribute (callability is not checked, as in
    the RIC). Raises FaultException for the runtime's own diagnoses; any other exception raised
    while the module runs propagates with its own type."""
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        module_name, function_name = (handler or "").rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))

    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module %s as a handler module" % module_name,
            )
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (module_name, e)
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '%s': %s" % (module_name, e),
            trace,
        )

    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '%s' missing on module '%s'" % (function_name, module_name),
        )
