"""python assertions, as promptfoo runs them. The value is one of:

- ``module:function`` (importable from the working directory);
- ``file://checks.py`` or ``file://checks.py:function`` (``get_assert`` by default);
- inline code: an expression (``'refund' in output.lower()``) or a function body that returns.

The function gets (output, context) and returns a bool, a number (passes when > 0, or at the
threshold when one is set), a string "true"/"false"/JSON/a number (read as JavaScript's parseFloat
reads it), or {pass, score, reason} with all three (pass a boolean, score a finite number, reason
a string; the threshold also applies to its score). Scores are kept as returned, above 1 or below
0 too, and `not-python` flips the verdict but keeps a number's or a dict's score, as promptfoo
does. Anything it raises, or an answer of another shape, fails the assertion.
"""

from __future__ import annotations

import importlib.util
import json
import math
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
    """snake_case keys as promptfoo maps them (a Python dataclass's `pass_` is `pass`)."""
    out = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in result.items()}
    if "pass_" in out and "pass" not in out:
        out["pass"] = out.pop("pass_")
    return out


# JavaScript's Number.parseFloat: leading blanks skipped, the longest decimal prefix read, the rest
# ignored ("0.7 points" is 0.7); no prefix is NaN. (Its "Infinity" is left out: an infinite score
# cannot be reported.)
_JS_FLOAT = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_SHAPE = "expected a bool, a number or {pass, score, reason}"


def _finite(value: Any) -> bool:
    return is_number(value) and math.isfinite(value)


def _graded(result: dict[str, Any], threshold: float | None, name: str) -> Check:
    """{pass, score, reason}, checked as promptfoo's asGradingResult checks it: pass a boolean, score
    a finite number, reason a string, or the function's answer is not one (the assertion fails)."""
    result = _camel(result)
    missing = [key for key, ok in (("pass", isinstance(result.get("pass"), bool)), ("score", _finite(result.get("score"))),
                                   ("reason", isinstance(result.get("reason"), str))) if not ok]  # fmt: skip
    if missing:
        raise Broken(f"{name} returned {{{', '.join(sorted(result))}}} with no valid {', '.join(missing)}; {_SHAPE}"
                     " (pass a boolean, score a finite number, reason a string)")
    passed, score, reason = result["pass"], float(result["score"]), result["reason"]
    if threshold is not None and score < threshold:
        passed = False
        reason = f"Python score {score:g} is less than threshold {threshold:g}" + (f": {reason}" if reason else "")
    return Check(passed, score, reason or f"{name}: {'pass' if passed else 'fail'}", negated_score=score)


def grade(result: Any, threshold: float | None, name: str) -> Check:
    """A python function's answer as a verdict, by promptfoo's rules (src/assertions/
    scriptResultNormalization.ts). A score is kept as returned, above 1 or below 0 too: the case's
    weighted mean adds it up as given, as promptfoo's AssertionsResult does."""
    if isinstance(result, str):
        if result.lower() in ("true", "false"):  # no trimming: " true" is not a boolean there
            result = result.lower() == "true"
        elif result.startswith("{"):
            try:
                result = json.loads(result)
            except ValueError:
                raise Broken(f"{name} returned text that is not JSON: {result[:60]!r}") from None
            if not isinstance(result, dict):
                raise Broken(f"{name} returned {result!r}; {_SHAPE}")
        else:
            match = _JS_FLOAT.match(result)
            if match is None:
                raise Broken(f"{name} returned str {result[:60]!r}; {_SHAPE}")
            result = float(match.group(1))
    if isinstance(result, bool):
        return check(result, f"{name} returned {result}")
    if is_number(result):
        if not math.isfinite(result):
            raise Broken(f"{name} returned {result}; a score must be a finite number")
        score = float(result)
        passed = score > 0 if threshold is None else score >= threshold
        rule = "pass above 0" if threshold is None else f"pass at {threshold:g}"
        return Check(passed, score, f"{name} scored {score:g} ({rule})", negated_score=score)
    if isinstance(result, dict):
        return _graded(result, threshold, name)
    raise Broken(f"{name} returned {type(result).__name__}; {_SHAPE}")


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
