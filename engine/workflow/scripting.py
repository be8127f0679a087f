"""The sandboxed script engine for diagram scripts, gateway conditions and timer expressions.

SpiffWorkflow's default environment runs plain `exec`/`eval` with every builtin, so a diagram
could `import os`. `RestrictedEnvironment` keeps that environment's semantics (task data is the
namespace, what a script assigns lands in task data, functions and modules never do) but
compiles with RestrictedPython under a stricter policy, hands scripts only the names listed in
this module, and stops a run after `timeout_s`.

Run time is bounded by a deadline check the compiler policy weaves into the code itself: at the
top of every `while` body, every function and lambda, and on every item a `for` loop,
comprehension or unpacking draws (RestrictedPython already routes those through `_getiter_`).
Once the deadline has passed, every further loop iteration or call raises again, so a script
that swallows the timeout with a bare `except:` or runs a loop in `finally:` still cannot keep
going. No signal is involved, so this works in any thread. A `sys.settrace` line tracer was
rejected: CPython 3.11 emits no line event for a loop compiled to one self-jump (`while True:
pass` spins forever unseen), and a tracer displaces coverage and debuggers.

Single C-level operations (a huge `**`, `math.factorial`, `'x' * n`) cannot be interrupted
that way, and they hold the GIL. So the code runs in a sandbox worker process
(engine.workflow.sandbox_pool) under `setrlimit` and a wall-clock kill; the deadline above then
only makes the usual case end with a precise message. Expressions in a provably cheap subset
(`_cheap_expression`: comparisons, boolean logic, lookups, a few linear calls) run here instead,
since most gateway conditions and DMN cells are such and a round trip costs more than they do.
The worker hands back only the variables a script added or changed, in JSON's types
(engine.workflow.script_values), so a live workflow and a restored one hold the same data.

Errors: a refusal or failure raises `ScriptError` whose message is built from the source text
only, never from task data values; `details` is a list of `{"line", "message"}`. SpiffWorkflow
wraps whatever a script raises into a `WorkflowTaskException` from inside its `except` block and
keeps only the class name, so the `ScriptError` is that wrapper's `__context__`:
`find_script_error(exc)` walks the chain. A `ScriptError` from a runtime failure has the
original exception as `__cause__` where the code ran (in the worker, it goes no further); it
may contain task data: log it, never show it.
"""

from __future__ import annotations

import ast
import builtins
import copy
import datetime as dt
import math
import operator
import pickle
import re
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType, GeneratorType, ModuleType
from typing import Any, Literal, TypeVar

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, T_pos_ast
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)

from engine.errors import ScriptError
from engine.workflow.sandbox_pool import SANDBOX, SandboxPool, WorkerDied, WorkerTimedOut
from engine.workflow.script_values import ValueRefused, to_task_data

__all__ = [
    "RestrictedEnvironment",
    "check_source",
    "find_script_error",
    "make_script_engine",
]

Mode = Literal["eval", "exec"]

# Frames of sandboxed code carry this file name; it is how a traceback line is found.
SCRIPT_FILENAME = "<diagram script>"
# range() is consumed in C by sum/sorted/list, where no deadline check can run.
MAX_RANGE = 100_000

# Everything a script can name besides its task data, the helpers and the guards below.
# RestrictedPython's `safe_builtins` is not used wholesale: it hands out BaseException,
# SystemExit, KeyboardInterrupt and `__build_class__`, none of which a diagram needs.
_BUILTIN_NAMES = (
    "abs all any bool dict enumerate float int isinstance len list max min round set sorted "
    "str sum tuple zip "
    "ArithmeticError Exception IndexError KeyError LookupError TypeError ValueError "
    "ZeroDivisionError"
).split()
_LIBRARY_NAMES: dict[str, Any] = {
    "datetime": dt.datetime,
    "date": dt.date,
    "timedelta": dt.timedelta,
    "timezone": dt.timezone,
    "math": math,
}
_CONSTANTS: dict[str, Any] = {"None": None, "True": True, "False": False}

# Runtime failures whose messages Python builds from types and names in the source only.
# Others (ValueError, KeyError, ...) can quote task data values, so only their type is shown.
_SAFE_MESSAGE_ERRORS = (
    NameError,
    AttributeError,
    TypeError,
    ZeroDivisionError,
    IndexError,
    RecursionError,
)

_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
}

_ERROR_LINE = re.compile(r"^Line (\d+|None): (.*)$", re.DOTALL)
_TICK = "_tick_"
_Node = TypeVar("_Node", bound=ast.AST)


class _Refused(BaseException):
    """Raised inside a running script for a refused action or the timeout.

    A BaseException on purpose: `except Exception:` in a script must not swallow it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- compile time ------------------------------------------------------------------------


def _tick_call() -> ast.Call:
    return ast.Call(func=ast.Name(_TICK, ast.Load()), args=[], keywords=[])


def _placed(new: _Node, old: ast.AST) -> _Node:
    ast.copy_location(new, old)
    return ast.fix_missing_locations(new)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, with plainer messages, a few more refusals, and the
    deadline checks woven in."""

    def check_name(
        self, node: T_pos_ast, name: str | None, allow_magic_methods: bool = False
    ) -> None:
        if name is not None and name.startswith("_") and name != "_":
            self.error(node, f"name '{name}' is not allowed")
            return
        super().check_name(node, name, allow_magic_methods)

    def visit_Name(self, node: ast.Name) -> Any:
        # RestrictedPython would route print into a collector nobody reads; say so instead.
        if node.id in ("print", "printed"):
            self.error(node, "print is not allowed (scripts have no output)")
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_") or node.attr in INSPECT_ATTRIBUTES:
            # Inner refusals first, so `().__class__.__base__` reports `__class__`.
            self.node_contents_visit(node)
            self.error(node, f"access to '{node.attr}' is not allowed")
            return node
        return super().visit_Attribute(node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import is not allowed")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import is not allowed")
        return node

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec", "compile"):
            self.error(node, f"{node.func.id}() is not allowed")
            return node
        return super().visit_Call(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed")
        return node

    def visit_While(self, node: ast.While) -> Any:
        super().visit_While(node)  # rewrites the children in place
        node.body.insert(0, _placed(ast.Expr(_tick_call()), node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        super().visit_FunctionDef(node)
        node.body.insert(0, _placed(ast.Expr(_tick_call()), node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        super().visit_Lambda(node)
        # `_tick_()` returns None, so `None or body` is the body.
        node.body = _placed(ast.BoolOp(op=ast.Or(), values=[_tick_call(), node.body]), node)
        return node


@dataclass(frozen=True)
class _Compiled:
    code: CodeType | None
    errors: tuple[tuple[int | None, str], ...]
    # String literals in the source: a missing key among them may be named in a message.
    literals: frozenset[str]


def _split_error(raw: str) -> tuple[int | None, str]:
    match = _ERROR_LINE.match(raw)
    if match is None:
        return None, raw
    line, message = match.groups()
    if message.startswith("SyntaxError: "):
        message = (
            "syntax error: " + message.removeprefix("SyntaxError: ").split(" at statement:")[0]
        )
    return (int(line) if line != "None" else None), message.rstrip(".")


@lru_cache(maxsize=2048)
def _compile(source: str, mode: Mode) -> _Compiled:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, filename=SCRIPT_FILENAME, policy=_Policy)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        # compile() itself can still object (a SyntaxWarning under -W error, null bytes,
        # absurd nesting) after RestrictedPython's own parse succeeded.
        if isinstance(exc, SyntaxError):
            error = (exc.lineno, f"syntax error: {exc.msg}")
        else:
            error = (None, "the code could not be compiled")
        return _Compiled(None, (error,), frozenset())
    errors = tuple(_split_error(e) for e in result.errors)
    literals: frozenset[str] = frozenset()
    if not errors:
        tree = ast.parse(source, mode=mode)
        literals = frozenset(
            n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is str
        )
    return _Compiled(result.code, errors, literals)


def check_source(source: str, *, mode: Literal["eval", "exec"]) -> str | None:
    """Deploy-time check: None if `source` compiles under the sandbox's restrictions, else a
    short message such as "line 1: import is not allowed". Names are not resolved here (task
    data is unknown until run time), so `open(...)` passes and fails only when run."""
    errors = _compile(source, mode).errors
    if not errors:
        return None
    line, message = errors[0]
    return message if line is None else f"line {line}: {message}"


# --- run time ----------------------------------------------------------------------------


def _guarded_getattr(obj: Any, name: str) -> Any:
    # The policy already refuses these names in source; this is the second lock.
    if not isinstance(name, str) or name.startswith("_") or name in INSPECT_ATTRIBUTES:
        raise _Refused(f"access to {name!r} is not allowed")
    try:
        value = safer_getattr_raise(obj, name)
    except NotImplementedError:
        # str.format and string.Formatter reach attributes by name at run time.
        raise _Refused(f"'{name}' is not allowed; use an f-string") from None
    if isinstance(value, ModuleType):
        raise _Refused(f"access to module '{name}' is not allowed")
    return value


def _guarded_write(obj: Any) -> Any:
    # Item writes and deletes go through here: allowed on the dicts and lists that make up
    # task data and what scripts build, refused on everything else (modules, classes, ...).
    if type(obj) in (dict, list):
        return obj
    raise _Refused(f"changing a '{type(obj).__name__}' object is not allowed")


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    func = _INPLACE_OPS.get(op)
    if func is None:
        raise _Refused(f"operator {op} is not allowed")
    return func(target, value)


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _limited_range(*args: int) -> range:
    numbers = range(*args)
    try:
        too_long = len(numbers) > MAX_RANGE
    except OverflowError:
        too_long = True
    if too_long:
        raise _Refused(f"range() is limited to {MAX_RANGE} items")
    return numbers


class _Deadline:
    def __init__(self, timeout_s: float, what: str) -> None:
        self._at = time.monotonic() + timeout_s
        self._message = f"{what} exceeded {timeout_s} s"

    def tick(self) -> None:
        if time.monotonic() > self._at:
            raise _Refused(self._message)

    def getiter(self, iterable: Any) -> Iterator[Any]:
        for item in iter(iterable):
            self.tick()
            yield item


def _guards(deadline: _Deadline) -> dict[str, Any]:
    return {
        "_getattr_": _guarded_getattr,
        "_getitem_": operator.getitem,
        "_getiter_": deadline.getiter,
        "_write_": _guarded_write,
        "_inplacevar_": _inplacevar,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_apply_": _apply,
        _TICK: deadline.tick,
    }


_GUARD_NAMES = frozenset(_guards(_Deadline(1.0, "")))


def _script_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _error(message: str, line: int | None) -> ScriptError:
    details = [{"line": line, "message": message}] if line is not None else []
    return ScriptError(message, details=details)


def _public_runtime_error(exc: Exception, compiled: _Compiled, what: str) -> ScriptError:
    if isinstance(exc, _SAFE_MESSAGE_ERRORS):
        message = str(exc)
    elif isinstance(exc, KeyError) and len(exc.args) == 1 and exc.args[0] in compiled.literals:
        message = f"key {exc.args[0]!r} not found"
    else:
        message = f"the {what} raised {type(exc).__name__}"
    return _error(message, _script_line(exc))


def _is_code_or_module(value: Any) -> bool:
    # Script code must not outlive its step: a function or generator kept in task data (or
    # handed back to SpiffWorkflow) would run later, outside the deadline and our handlers.
    return callable(value) or isinstance(value, (GeneratorType, ModuleType))


# Expressions built only from these run in this process: each costs time and memory linear in
# its source and the task data it reads (already held here), so no limit can be exceeded that
# the data itself did not exceed. Anything else (`**`, `*`, `%`, `<<`, comprehensions, other
# calls) goes to a sandbox worker. Most gateway conditions and DMN cells are in this subset,
# and a worker round trip costs 0.1 ms idle but several ms on a busy machine.
_CHEAP_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot,
    ast.In, ast.NotIn, ast.Name, ast.Load, ast.Constant, ast.Subscript, ast.Slice,
    ast.Attribute, ast.IfExp, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.BinOp, ast.Add,
    ast.Sub, ast.Div, ast.FloorDiv, ast.Call, ast.keyword,
)  # fmt: skip
_CHEAP_CALLS = frozenset({"len", "bool", "abs", "min", "max", "isinstance", "str", "int", "float"})
_CHEAP_METHODS = frozenset({"get", "lower", "upper", "strip", "startswith", "endswith"})


@lru_cache(maxsize=2048)
def _cheap_expression(source: str) -> bool:
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    nodes = list(ast.walk(tree))
    # `a + a + a ...` grows with the source times the data: keep both small.
    if len(nodes) > 400 or sum(isinstance(n, ast.BinOp) for n in nodes) > 8:
        return False
    for node in nodes:
        if not isinstance(node, _CHEAP_NODES):
            return False
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes | int):
            if isinstance(node.value, str | bytes) and len(node.value) > 10_000:
                return False
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in _CHEAP_CALLS:
                continue
            if isinstance(func, ast.Attribute) and func.attr in _CHEAP_METHODS:
                continue
            return False
    return True


def helper_reference(name: str, func: Callable[..., Any]) -> str:
    """`module:qualname` of a helper, by which a sandbox worker imports it. Helpers run in the
    worker, next to the script, so they must be importable module-level functions."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
    if not module or not qualname or "<" in qualname:
        raise ValueError(
            f"helper {name!r} must be a module-level function (it runs in a sandbox worker)"
        )
    return f"{module}:{qualname}"


def changed_names(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """What a script did to its namespace: the names it added or changed (value or type), and
    the task data names it deleted or turned into code. Guards and builtins are not names."""
    changed = [
        name
        for name, value in after.items()
        if name not in _GUARD_NAMES
        and name != "__builtins__"
        and not _is_code_or_module(value)
        and (name not in before or not _same(before[name], value))
    ]
    deleted = [name for name in before if name not in after or _is_code_or_module(after[name])]
    return changed, deleted


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b) and (
            not isinstance(a, dict | list | tuple)
            or pickle.dumps(a, protocol=5) == pickle.dumps(b, protocol=5)
        )
    except Exception:  # noqa: BLE001 - incomparable or unpicklable: treat as changed
        return False


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs code through RestrictedPython, in a
    sandbox worker process (engine.workflow.sandbox_pool) with hard time and memory limits.

    Allow-listed names and helpers are served as builtins, so task data may shadow them and
    they never land in it (and, unlike TaskDataEnvironment, a form field called `date` is no
    error). Each run gets a fresh namespace, a copy of the task data; after `execute` the
    variables the script added, changed or deleted are applied to the task data, in JSON's
    types (engine.workflow.script_values; functions, generators and modules are dropped).
    `local=True` runs in this process, with only the cooperative deadline: the worker's mode.
    """

    def __init__(
        self,
        *,
        timeout_s: float = 1.0,
        helpers: Mapping[str, Callable[..., Any]] | None = None,
        local: bool = False,
        pool: SandboxPool | None = None,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        super().__init__({})
        self.timeout_s = timeout_s
        self._builtins = _build_builtins(helpers or {})
        self._local = local
        self._pool = pool or SANDBOX
        self._helper_refs = (
            {} if local else {n: helper_reference(n, f) for n, f in (helpers or {}).items()}
        )

    # --- the SpiffWorkflow interface: runs in a sandbox worker --------------------------
    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if self._local or _cheap_expression(expression):
            return _as_stored(self.evaluate_here(expression, context, external_context or {}))
        answer = self._call("eval", expression, context, external_context, "expression")
        if "error" in answer:
            raise _error(answer["error"]["message"], answer["error"]["line"])
        return answer["value"]

    def execute(
        self,
        script: str,
        context: MutableMapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> bool:
        if self._local:
            namespace = copy.deepcopy(dict(context))
            try:
                self.execute_here(script, namespace, external_context or {})
            finally:
                changed, deleted = changed_names(context, namespace)
                for name in deleted:
                    context.pop(name, None)
                for name in changed:
                    context[name] = _as_stored(namespace[name], f"variable '{name}'")
            return True
        answer = self._call("exec", script, context, external_context, "script")
        # Like TaskDataEnvironment, what ran before a failure stays assigned.
        for name in answer["deleted"]:
            context.pop(name, None)
        context.update(answer["set"])
        if "error" in answer:
            raise _error(answer["error"]["message"], answer["error"]["line"])
        return True

    def _call(
        self,
        op: str,
        source: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None,
        what: str,
    ) -> dict[str, Any]:
        try:
            request = {
                "op": op,
                "source": source,
                "context": pickle.dumps(dict(context), protocol=pickle.HIGHEST_PROTOCOL),
                "external": dict(external_context or {}),
                "timeout_s": self.timeout_s,
                "helpers": self._helper_refs,
            }
            return self._pool.call(request, timeout_s=self.timeout_s)
        except WorkerTimedOut:
            raise ScriptError(f"{what} exceeded {self.timeout_s} s and was stopped") from None
        except WorkerDied:
            raise ScriptError(f"{what} exceeded its time or memory limit") from None
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ScriptError(f"the task data could not be handed to the {what}") from exc

    # --- in this process: what the worker runs ----------------------------------------
    def evaluate_here(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping[str, Any]
    ) -> Any:
        namespace = self._namespace(context, external_context, "expression")
        result = self._run(expression, "eval", namespace, "expression")
        if _is_code_or_module(result):
            raise ScriptError("an expression must give a value, not a function or generator")
        return result

    def execute_here(
        self,
        script: str,
        context: MutableMapping[str, Any],
        external_context: Mapping[str, Any],
    ) -> None:
        """Run `script` on `context` (the caller's own copy of the task data). Afterwards
        `context` holds the script's variables; data objects it did not assign stay out."""
        namespace = self._namespace(context, external_context, "script")
        try:
            self._run(script, "exec", namespace, "script")
        finally:
            for key in list(context):
                if key not in namespace:
                    del context[key]
            for key, value in namespace.items():
                if key in _GUARD_NAMES or key == "__builtins__":
                    continue
                if key in external_context and key not in context:
                    continue  # data objects are the workflow's, not this task's
                context[key] = value

    def _namespace(
        self,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None,
        what: str,
    ) -> dict[str, Any]:
        # Guards go last so task data can never replace them.
        return {
            **(external_context or {}),
            **context,
            **_guards(_Deadline(self.timeout_s, what)),
            "__builtins__": self._builtins,
        }

    def _run(self, source: str, mode: Mode, namespace: dict[str, Any], what: str) -> Any:
        compiled = _compile(source, mode)
        if compiled.code is None:
            line, message = compiled.errors[0]
            raise _error(message, line)
        try:
            if mode == "eval":
                return eval(compiled.code, namespace)  # noqa: S307 - restricted code, guarded namespace
            exec(compiled.code, namespace)  # noqa: S102 - restricted code, guarded namespace
            return None
        except _Refused as exc:
            raise _error(exc.message, _script_line(exc)) from None
        except ScriptError:
            raise  # a helper's own refusal, already public
        except MemoryError as exc:
            raise _error(f"the {what} exceeded its memory limit", _script_line(exc)) from exc
        except Exception as exc:
            raise _public_runtime_error(exc, compiled, what) from exc


def _as_stored(value: Any, where: str = "the expression's result") -> Any:
    """`value` in JSON's types, as the sandbox worker hands it back (the local mode's half of
    the same rule); ScriptError when it cannot be stored."""
    try:
        return to_task_data(value, where)
    except ValueRefused as exc:
        raise ScriptError(str(exc)) from None


def _build_builtins(helpers: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    names: dict[str, Any] = dict(_CONSTANTS)
    names.update({name: getattr(builtins, name) for name in _BUILTIN_NAMES})
    names["range"] = _limited_range
    names.update(_LIBRARY_NAMES)
    for name, func in helpers.items():
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"helper name {name!r} must be a public identifier")
        if name in names:
            raise ValueError(f"helper {name!r} would hide an allowed name")
        if not callable(func):
            raise ValueError(f"helper {name!r} is not callable")
        names[name] = func
    return names


def make_script_engine(
    *,
    timeout_s: float = 1.0,
    helpers: Mapping[str, Callable[..., Any]] | None = None,
) -> PythonScriptEngine:
    """The script engine every BpmnWorkflow in CareBridge runs with."""
    return PythonScriptEngine(
        environment=RestrictedEnvironment(timeout_s=timeout_s, helpers=helpers)
    )


def find_script_error(exc: BaseException) -> ScriptError | None:
    """The ScriptError behind an exception SpiffWorkflow raised, if any.

    SpiffWorkflow raises its `WorkflowTaskException` while handling ours, so ours is found on
    `__context__` (or `__cause__`)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ScriptError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
