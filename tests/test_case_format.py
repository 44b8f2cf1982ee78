"""The regression case format: the msgspec types and the JSON Schema file agree."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import REPO
from console.cases.format import CaseError, case_to_json, parse_case

SCHEMA = json.loads((REPO / "schemas" / "regression-case.v1.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

GOOD = [
    {"id": "c1", "input": {"text": "hi"}, "assert": []},
    {"id": "c2", "input": {"messages": [{"role": "user", "content": "reset my password"}]},
     "assert": [{"type": "not-equals", "value": "I can't help with that."}, {"type": "contains", "value": "Settings", "weight": 2}],
     "threshold": 0.5, "tags": ["refusal", "critical"], "repeat": 3, "status": "active",
     "source": {"kind": "triage", "request_id": "req_1", "prompt_id": "support-answer", "prompt_version": "v8",
                "model": "gpt-4o", "ts": "2026-11-20T12:00:00Z", "bad_output": "I can't help with that.",
                "reason": "wrong answer", "who": "oncall", "when": "2026-11-20T12:05:00Z"}},
    {"id": "c3", "input": {"vars": {"question": "x"}}, "assert": [{"type": "levenshtein", "value": "abc", "threshold": 3}],
     "expected_output": "abc", "description": "d"},
    {"id": "c4", "input": {"text": "x"}, "assert": [{"type": "is-json", "value": {"type": "object"}}, {"type": "python", "value": "m:f"}]},
    {"id": "c5", "input": {"vars": {"q": "x"}}, "assert": [
        {"type": "assert-set", "threshold": 0.5, "metric": "tone", "assert": [
            {"type": "icontains-any", "value": "refund,return", "normalizeUnicode": True},
            {"type": "not-is-refusal"}, {"type": "javascript", "value": "output.length > 3"}]},
        {"type": "python", "value": "file://checks.py", "config": {"k": 1}, "transform": "output.trim()"},
        {"type": "finish-reason", "value": "stop"}, {"type": "similar", "value": "{{ q }}", "threshold": 0.8}]},
    # a case threshold is any number, as promptfoo's TestCase `threshold: z.number().optional()`
    # (src/types/testCases.ts): above 1 (python scores above 1 reach it), 0, below 0
    {"id": "c6", "input": {"text": "hi"}, "assert": [{"type": "python", "value": "2"}], "threshold": 1.5},
    {"id": "c7", "input": {"text": "hi"}, "assert": [], "threshold": 0},
    {"id": "c8", "input": {"text": "hi"}, "assert": [], "threshold": -0.5},
]  # fmt: skip

BAD = [
    {"input": {"text": "hi"}, "assert": []},
    {"id": "", "input": {"text": "hi"}, "assert": []},
    {"id": "c", "assert": []},
    {"id": "c", "input": {}, "assert": []},
    {"id": "c", "input": {"text": "hi"}},
    {"id": "c", "input": {"text": "hi"}, "assert": [{"type": "looks-good"}]},
    {"id": "c", "input": {"text": "hi"}, "assert": [{"type": "contains", "weight": -1}]},
    {"id": "c", "input": {"text": "hi"}, "assert": [], "repeat": 0},
    {"id": "c", "input": {"text": "hi"}, "assert": [], "status": "deleted"},
    {"id": "c", "input": {"text": "hi"}, "assert": [], "threshold": "0.5"},
    {"id": "c", "input": {"text": "hi"}, "assert": [], "surprise": 1},
    {"id": "c", "input": {"text": "hi", "extra": 1}, "assert": []},
    {"id": "c", "input": {"messages": [{"content": "no role"}]}, "assert": []},
    {"id": "c", "input": {"text": "hi"}, "assert": [{"type": "equals", "normalizeUnicode": "NFX"}]},
    {"id": "c", "input": {"text": "hi"}, "assert": [{"type": "assert-set", "assert": [{"type": "looks-good"}]}]},
    {"id": "c", "input": {"text": "hi"}, "assert": [{"type": "contains", "provider": "openai:gpt-4o"}]},
]  # fmt: skip


@pytest.mark.parametrize("case", GOOD, ids=range(len(GOOD)))
def test_good_cases_pass_both(case):
    assert VALIDATOR.is_valid(case)
    parsed = parse_case(json.dumps(case))
    assert json.loads(case_to_json(parsed)) == json.loads(case_to_json(parse_case(case_to_json(parsed))))
    assert VALIDATOR.is_valid(json.loads(case_to_json(parsed)))


@pytest.mark.parametrize("case", BAD, ids=range(len(BAD)))
def test_bad_cases_fail_both(case):
    assert not VALIDATOR.is_valid(case)
    with pytest.raises(CaseError):
        parse_case(json.dumps(case))


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
