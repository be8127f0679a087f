"""The worker process of engine.workflow.sandbox_pool: limits itself, then runs diagram code.

Protocol on stdin/stdout: a 4-byte big-endian length, then the body. Requests are pickled
dicts from the pool; answers are JSON. Requests:

- `{"op": "exec", "source", "context": <pickled task data>, "external", "timeout_s",
  "helpers"}` -> `{"set": {name: value}, "deleted": [name], "error"?}`: only the variables the
  script added or changed come back, converted to JSON's types (script_values), so a value the
  script did not touch stays exactly as the caller holds it;
- `{"op": "eval", "source", "context", "external", "timeout_s", "helpers"}` ->
  `{"value"}` or `{"error"}`;
- `{"op": "render", "template", "data", "fence"}` -> `{"text"}` (instruction templates).

`error` is `{"message", "line"}`, public text built from the source only. `"recycle": true`
asks the pool to end this worker (after a MemoryError the heap may be fragmented to its limit).
"""

from __future__ import annotations

import importlib
import json
import math
import pickle
import resource
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

_HEADER = 4
_helpers: dict[str, Callable[..., Any]] = {}


def _limit_self(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # no files written
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no child processes
    except (ValueError, OSError):  # pragma: no cover - refused on some kernels/containers
        pass


def _cpu_budget(timeout_s: float) -> None:
    # RLIMIT_CPU counts the process's whole life: allow this request its share on top of what
    # was used so far. SIGXCPU then ends the worker if the pool's wall-clock kill were late.
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    soft = math.ceil(spent + timeout_s) + 2
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _helper(reference: str) -> Callable[..., Any]:
    func = _helpers.get(reference)
    if func is None:
        module, _, qualname = reference.partition(":")
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
        func = _helpers[reference] = target
    return func


def _environment(request: Mapping[str, Any]) -> Any:
    from engine.workflow.scripting import RestrictedEnvironment

    helpers = {name: _helper(ref) for name, ref in request.get("helpers", {}).items()}
    return RestrictedEnvironment(timeout_s=request["timeout_s"], helpers=helpers, local=True)


def _error(exc: Any) -> dict[str, Any]:
    details = getattr(exc, "details", None) or []
    line = details[0].get("line") if details else None
    return {"message": getattr(exc, "public_message", str(exc)), "line": line}


def _run_exec(request: Mapping[str, Any]) -> dict[str, Any]:
    from engine.errors import ScriptError
    from engine.workflow.script_values import ValueRefused, to_task_data
    from engine.workflow.scripting import changed_names

    env = _environment(request)
    context = pickle.loads(request["context"])  # noqa: S301 - from the pool, our parent
    before = pickle.loads(request["context"])  # noqa: S301 - an untouched copy to compare
    external = request.get("external") or {}
    answer: dict[str, Any] = {}
    try:
        env.execute_here(request["source"], context, external)
    except ScriptError as exc:
        answer["error"] = _error(exc)
        answer["recycle"] = isinstance(exc.__cause__, MemoryError)
    changed, deleted = changed_names(before, context)
    values: dict[str, Any] = {}
    for name in changed:
        try:
            values[name] = to_task_data(context[name], f"variable '{name}'")
        except ValueRefused as exc:
            answer.setdefault("error", {"message": str(exc), "line": None})
    answer["set"] = values
    answer["deleted"] = deleted
    return answer


def _run_eval(request: Mapping[str, Any]) -> dict[str, Any]:
    from engine.errors import ScriptError
    from engine.workflow.script_values import ValueRefused, to_task_data

    env = _environment(request)
    context = pickle.loads(request["context"])  # noqa: S301 - from the pool, our parent
    try:
        value = env.evaluate_here(request["source"], context, request.get("external") or {})
        return {"value": to_task_data(value, "the expression's result")}
    except ScriptError as exc:
        return {"error": _error(exc), "recycle": isinstance(exc.__cause__, MemoryError)}
    except ValueRefused as exc:
        return {"error": {"message": str(exc), "line": None}}


def _run_render(request: Mapping[str, Any]) -> dict[str, Any]:
    from engine.workflow.instruction_templates import render_template

    data = pickle.loads(request["data"])  # noqa: S301 - from the pool, our parent
    try:
        return {"text": render_template(request["template"], data, fence=request.get("fence"))}
    except MemoryError:
        return {"text": None, "recycle": True}


_OPS = {"exec": _run_exec, "eval": _run_eval, "render": _run_render}


def _read(stream: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def main(memory_bytes: int) -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing else may write into the answer stream.
    sys.stdout = sys.stderr
    # Warm the imports before the limits, so they count against no request.
    import engine.workflow.instruction_templates
    import engine.workflow.scripting  # noqa: F401

    _limit_self(memory_bytes)
    stdout.write(b"R")  # booted and limited: the pool starts the first request's clock now
    stdout.flush()
    while True:
        try:
            size = int.from_bytes(_read(stdin, _HEADER), "big")
            request = pickle.loads(_read(stdin, size))  # noqa: S301 - from the pool, our parent
        except EOFError:
            return
        _cpu_budget(float(request.get("timeout_s", 1.0)) + 1.0)
        started = time.monotonic()
        try:
            answer = _OPS[request["op"]](request)
        except MemoryError:
            answer = {"error": {"message": "it exceeded its memory limit", "line": None}}
            answer["recycle"] = True
        answer["elapsed_s"] = time.monotonic() - started
        try:
            body = json.dumps(answer, separators=(",", ":")).encode()
        except (MemoryError, RecursionError, ValueError):
            # Past what JSON takes (an int of thousands of digits, nesting thousands deep).
            too_large = {"message": "the script's result is too large to keep", "line": None}
            body = json.dumps({"error": too_large, "set": {}, "deleted": []}).encode()
        stdout.write(len(body).to_bytes(_HEADER, "big") + body)
        stdout.flush()
