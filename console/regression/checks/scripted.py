"""python assertions, as promptfoo runs them. The value is one of:

- ``module:function`` (importable from the working directory);
- ``file://checks.py`` or ``file://checks.py:function`` (``get_assert`` by default);
- inline code: an expression (``'refund' in output.lower()``) or a function body that returns.

The function gets (output, context) and returns a bool, a number (passes when > 0, or at the
threshold when one is set), a string "true"/"false"/a number, or {pass, score, reason} (the
threshold also applies to its score). Anything it raises fails the assertion.
"""

from __future__ import annotations

import importlib.util
import json
import re
import textwrap
import threading
from typing import Any, Callable

import msgspec

from console.regression.checks.base import Broken, Check, Given, check, is_number
from console.regression.checks.values import FILE_PREFIX, file_path
from console.regression.loading import LoadError, load_callable

_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_compiled: dict[str, Callable[..., Any]] = {}
_lock = threading.Lock()


def _inline(code: str) -> Callable[..., Any]:
    found = _compiled.get(code)
    if found is not None:
        return found
    if "\n" in code.strip():
        body = textwrap.indent(textwrap.dedent(code), "    ")
    else:
        body = f"    return {code.strip()}"
    namespace: dict[str, Any] = {"json": json}
    try:
        exec(compile(f"def main(output, context):\n{body}\n", "<python assertion>", "exec"), namespace)
    except SyntaxError as exc:
        raise Broken(f"the inline python does not compile: {exc.msg} (line {exc.lineno})") from None
    with _lock:
        _compiled[code] = namespace["main"]
    return namespace["main"]


def _from_file(reference: str) -> Callable[..., Any]:
    path, function = file_path(reference)
    key = f"{path}:{function or 'get_assert'}"
    found = _compiled.get(key)
    if found is not None:
        return found
    if path.suffix != ".py":
        raise Broken(f"{reference}: python assertions run .py files")
    spec = importlib.util.spec_from_file_location(f"_llmops_assert_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise Broken(f"{reference}: no such file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise Broken(f"{reference}: cannot import: {type(exc).__name__}: {exc}") from None
    func = getattr(module, function or "get_assert", None)
    if not callable(func):
        raise Broken(f"{reference}: no function {function or 'get_assert'!r}")
    with _lock:
        _compiled[key] = func
    return func


def python_function(value: Any) -> Callable[..., Any]:
    if not isinstance(value, str) or not value.strip():
        raise Broken("python needs 'module:function', 'file://checks.py[:function]' or inline code")
    if value.startswith(FILE_PREFIX):
        return _from_file(value)
    if _REFERENCE.match(value.strip()):
        try:
            return load_callable(value.strip(), what="python assertion")
        except LoadError as exc:
            raise Broken(str(exc)) from None
    return _inline(value)


def _context(given: Given) -> dict[str, Any]:
    case, out, a = given.case, given.out, given.assertion
    given_input = case.input
    prompt = given_input.text if given_input.text is not None else json.dumps(
        msgspec.to_builtins(given_input.messages) if given_input.messages else given_input.vars or {})
    return {"case": case, "vars": given.vars, "expected_output": case.expected_output, "prompt": prompt,
            "test": msgspec.to_builtins(case), "config": dict(a.config or {}), "latency_ms": out.latency_ms,
            "cost_usd": out.cost_usd, "tokens": out.tokens, "raw": out.raw, "threshold": a.threshold,
            "providerResponse": {"output": out.output, "cost": out.cost_usd, "raw": out.raw}}  # fmt: skip


def _camel(result: dict[str, Any]) -> dict[str, Any]:
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in result.items()}


def grade(result: Any, threshold: float | None, name: str) -> Check:
    """A python function's answer as a verdict, by promptfoo's rules."""
    if isinstance(result, str):
        text = result.strip()
        if text.lower() in ("true", "false"):
            result = text.lower() == "true"
        elif text.startswith("{"):
            try:
                result = json.loads(text)
            except ValueError:
                raise Broken(f"{name} returned text that is not JSON: {text[:60]!r}") from None
        else:
            try:
                result = float(text)
            except ValueError:
                raise Broken(f"{name} returned str {text[:60]!r}; expected a bool, a score or {{pass, score, reason}}") from None
    if isinstance(result, bool):
        return check(result, f"{name} returned {result}")
    if is_number(result):
        score = float(result)
        passed = score > 0 if threshold is None else score >= threshold
        rule = "pass above 0" if threshold is None else f"pass at {threshold:g}"
        return Check(passed, min(1.0, max(0.0, score)), f"{name} scored {score:g} ({rule})")
    if isinstance(result, dict) and ("pass" in result or "score" in result or "pass_" in result):
        result = _camel(result)
        raw_score = result.get("score")
        score = float(raw_score) if is_number(raw_score) else None
        if "pass" in result:
            passed = bool(result["pass"])
        else:  # a score alone: as a bare number would be read
            passed = (score or 0.0) > 0 if threshold is None else (score or 0.0) >= threshold
        reason = str(result.get("reason") or f"{name}: {'pass' if passed else 'fail'}")
        if threshold is not None and score is not None and score < threshold:
            passed, reason = False, f"score {score:g} is under the threshold {threshold:g}: {reason}"
        score = min(1.0, max(0.0, score)) if score is not None else (1.0 if passed else 0.0)
        return Check(passed, score, reason)
    raise Broken(f"{name} returned {type(result).__name__}; expected a bool, a score or {{pass, score, reason}}")


def python(value: Any, given: Given) -> Check:
    func = python_function(value)
    name = value if len(value) <= 60 else value[:59] + "…"
    try:
        result = func(given.out.output, _context(given))
    except Exception as exc:
        hint = ""
        if isinstance(exc, NameError) and not value.startswith(FILE_PREFIX) and ":" not in value:
            hint = " (read as inline code: python takes 'module:function', 'file://checks.py[:function]' or code)"
        raise Broken(f"{name} raised {type(exc).__name__}: {exc}{hint}") from None
    return grade(result, given.assertion.threshold, name)
