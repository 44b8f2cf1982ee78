"""Our cases as a promptfooconfig.yaml, so the same suite runs in promptfoo's CI.

Each case is one test: its vars, plus `llmops_input` (the case's text, its messages as JSON,
or its vars as JSON) which the one prompt `{{ llmops_input }}` sends; its assertions with
promptfoo's keys (a python `module:function` written as `file://module.py:function`, an
implicit expected_output as `equals`); its threshold; and the whole case in metadata.llmops,
its tags in metadata.tags. console.regression.promptfoo reads such a test back as the original
case while its assert, vars and threshold are as exported; an edited test is read as written.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import msgspec
import yaml

from console.cases.format import Assertion, RegressionCase, parse_case

INPUT_VAR = "llmops_input"
PROMPT = "{{ %s }}" % INPUT_VAR
_MODULE_REFERENCE = re.compile(r"^([A-Za-z_][\w.]*):([A-Za-z_]\w*)$")


def _assertion(a: Assertion, case: RegressionCase) -> dict[str, Any]:
    out = msgspec.to_builtins(a)
    if a.kind in ("equals", "levenshtein") and a.value is None and case.expected_output is not None:
        out["value"] = case.expected_output
    if a.kind == "python" and isinstance(a.value, str):
        found = _MODULE_REFERENCE.match(a.value.strip())
        if found:
            out["value"] = f"file://{found.group(1).replace('.', '/')}.py:{found.group(2)}"
    if a.assert_:
        out["assert"] = [_assertion(m, case) for m in a.assert_]
    return out


def _input_text(case: RegressionCase) -> str:
    given = case.input
    if given.text is not None:
        return given.text
    value = msgspec.to_builtins(given.messages) if given.messages else given.vars or {}
    return msgspec.json.encode(value).decode()


def exported_test(case: RegressionCase) -> dict[str, Any]:
    """One case as a promptfoo test (without its metadata)."""
    asserts = case.assert_ or ([Assertion(type="equals")] if case.expected_output is not None else [])
    test: dict[str, Any] = {"description": case.description or case.id,
                            "vars": {**(case.input.vars or {}), INPUT_VAR: _input_text(case)},
                            "assert": [_assertion(a, case) for a in asserts]}  # fmt: skip
    if case.threshold is not None:
        test["threshold"] = case.threshold
    return test


def to_promptfoo(cases: Iterable[RegressionCase], *, description: str = "llmops-console regression suite",
                 providers: list[Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """A promptfoo config with one test per case. The provider is promptfoo's `echo` unless
    given: put the model or endpoint the suite should run against there."""
    tests = []
    for case in cases:
        test = exported_test(case)
        test["metadata"] = {"llmops": msgspec.to_builtins(case), **({"tags": list(case.tags)} if case.tags else {})}
        tests.append(test)
    return {"description": description, "prompts": [PROMPT], "providers": providers or ["echo"], "tests": tests}


def dump_promptfoo(cases: Iterable[RegressionCase], **options: Any) -> str:
    return yaml.safe_dump(to_promptfoo(cases, **options), sort_keys=False, allow_unicode=True, width=120)


def original_case(own: Any, test: dict[str, Any]) -> RegressionCase | None:
    """The case an exported test carries in metadata.llmops, if the test is still as exported."""
    try:
        case = parse_case(msgspec.json.encode(own))
    except Exception:  # a hand-written or damaged metadata.llmops: read the test as written
        return None
    exported = exported_test(case)
    unchanged = all(exported.get(key) == test.get(key) for key in ("vars", "assert", "threshold"))
    return case if unchanged else None
