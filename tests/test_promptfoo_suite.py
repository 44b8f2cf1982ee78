"""A promptfoo suite runs as it is (console.regression.promptfoo), and our cases go out as a
promptfooconfig.yaml and come back unchanged (console.regression.promptfoo_export)."""

from __future__ import annotations

import json

import yaml

from conftest import REPO
from console.cases.format import parse_case
from console.regression.assertions import evaluate
from console.regression.promptfoo_export import dump_promptfoo
from console.regression.results import FAIL, PASS, TargetOutput
from console.regression.suite import load_suite

FIXTURE = REPO / "tests" / "fixtures" / "promptfoo" / "promptfooconfig.yaml"


def test_a_promptfoo_config_loads_as_cases_with_unmappable_tests_listed():
    suite = load_suite(FIXTURE)
    cases = suite.by_id()
    # prompts × tests: the file prompt and the inline one, each rendered with the vars
    greets = cases["1-greets@file-prompts-txt"]
    assert greets.input.text == "Translate to French: Hello world"
    assert cases["1-greets@respond-to-this-in-language-in"].input.text == "Respond to this in French: Hello world"
    assert [a.type for a in greets.assert_] == ["not-icontains", "contains-any", "llm-rubric"]  # defaultTest first
    # a list var makes one test per value
    assert {c.input.vars["language"] for c in suite.cases if c.id.startswith("2-counts")} == {"German", "Spanish"}
    # file:// test files (YAML with threshold and tags, CSV with __expected) and file:// vars
    refunds = cases["7-refund-window@file-prompts-txt"]
    assert refunds.threshold == 0.5 and refunds.tags == ["critical"]
    assert cases["8-morning@file-prompts-txt"].assert_[-1].type == "equals"
    assert cases["6-policy-from-a-file@file-prompts-txt"].input.vars["input"].startswith("Refunds within 30 days")
    assert all(c.source.kind == "import" and "promptfooconfig.yaml" in c.source.note for c in suite.cases)
    # what cannot run is listed per test with the reason, and not run
    skipped = {p.where.split("'")[1]: p.reason for p in suite.problems}
    assert set(skipped) == {"with its own provider", "transformed", "factual", "bye"}
    assert "javascript" in skipped["bye"] and "provider" in skipped["with its own provider"]
    assert "transform" in skipped["transformed"] and "factuality" in skipped["factual"]
    assert not any(c.description in skipped for c in suite.cases)
    assert any("redteam" in n for n in suite.notes) and any("2 providers" in n for n in suite.notes)


def test_the_loaded_cases_check_with_promptfoo_meanings():
    cases = load_suite(FIXTURE).by_id()
    refunds = cases["7-refund-window@file-prompts-txt"]
    assert evaluate(refunds, TargetOutput("You have 30 days to return it."))[0] == PASS
    assert evaluate(refunds, TargetOutput("As an AI I cannot say"))[0] == FAIL
    policy = cases["6-policy-from-a-file@respond-to-this-in-language-in"]
    assert evaluate(policy, TargetOutput("Oui: REFUNDS WITHIN 30 DAYS\n"))[0] == PASS  # {{ input }} rendered, ignoring case
    thanks = cases["9-thanks@file-prompts-txt"]
    assert evaluate(thanks, TargetOutput("merci beaucoup"))[0] == PASS


def _cases():
    lines = [
        {"id": "refund-1", "description": "refund window", "input": {"messages": [{"role": "user", "content": "return?"}]},
         "assert": [{"type": "contains-all", "value": ["30", "days"], "weight": 2},
                    {"type": "python", "value": "my_checks:polite", "config": {"k": 1}},
                    {"type": "assert-set", "threshold": 0.5, "assert": [{"type": "not-is-refusal"}, {"type": "regex", "value": "\\d+"}]}],
         "threshold": 0.6, "tags": ["critical", "refunds"], "repeat": 3,
         "source": {"kind": "triage", "request_id": "req_9", "prompt_id": "support", "prompt_version": "v3",
                    "bad_output": "I can't help", "who": "oncall", "when": "2026-11-20T12:05:00Z"}},
        {"id": "capital", "input": {"text": "Capital of France?"}, "assert": [], "expected_output": "Paris"},
        {"id": "vars-only", "input": {"vars": {"question": "hi", "n": 2}}, "assert": [{"type": "llm-rubric", "value": "polite"}]},
    ]  # fmt: skip
    return [parse_case(json.dumps(line)) for line in lines]


def test_round_trip_ours_to_promptfoo_to_ours_keeps_every_case(tmp_path):
    cases = _cases()
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text(dump_promptfoo(cases), encoding="utf-8")
    config = yaml.safe_load(path.read_text())
    assert config["prompts"] == ["{{ llmops_input }}"] and len(config["tests"]) == 3
    # promptfoo can run it: module:function becomes a file:// reference, expected_output an equals
    first, second = config["tests"][0], config["tests"][1]
    assert first["assert"][1]["value"] == "file://my_checks.py:polite"
    assert second["assert"] == [{"type": "equals", "value": "Paris"}] and second["vars"]["llmops_input"] == "Capital of France?"
    assert first["metadata"]["tags"] == ["critical", "refunds"] and first["metadata"]["llmops"]["source"]["request_id"] == "req_9"
    back = load_suite(path)
    assert not back.problems
    assert [c for c in back.cases] == cases


def test_an_edited_exported_test_is_read_as_written(tmp_path):
    path = tmp_path / "promptfooconfig.yaml"
    config = yaml.safe_load(dump_promptfoo(_cases()))
    config["tests"][1]["assert"] = [{"type": "icontains", "value": "paris"}]
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    edited = next(c for c in load_suite(path).cases if c.input.text == "Capital of France?")
    assert [(a.type, a.value) for a in edited.assert_] == [("icontains", "paris")]
    assert evaluate(edited, TargetOutput("PARIS"))[0] == PASS


def test_every_unmappable_part_of_a_test_is_named_and_yaml_reads_as_promptfoo_reads_it(tmp_path):
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text("""
prompts: ['Say {{ word }}']
assertionTemplates:
  polite: {type: icontains, value: please}
tests:
  - description: many problems
    provider: openai:o1
    vars: {word: x}
    assert:
      - type: javascript
        value: output.length > 1
      - type: factuality
        value: x
      - $ref: '#/assertionTemplates/missing'
  - description: yaml 1.2
    vars: {word: Yes, other: no, flag: true}
    options: {provider: openai:gpt-4o}
    assert:
      - $ref: '#/assertionTemplates/polite'
""")
    suite = load_suite(path)
    (problem,) = suite.problems
    assert problem.not_run and problem.where == "tests[1] 'many problems'"
    assert problem.reason == ("the test names its own provider (promptfoo would call it); javascript assertion (no JavaScript"
                              " runs here); promptfoo's factuality assertion has no counterpart here; $ref"
                              " #/assertionTemplates/missing points at nothing in the config")  # fmt: skip
    (case,) = suite.cases
    assert case.input.text == "Say Yes" and case.input.vars == {"word": "Yes", "other": "no", "flag": True}
    assert [(a.type, a.value) for a in case.assert_] == [("icontains", "please")]
    assert suite.notes == ["tests[2] 'yaml 1.2': options.provider (a grader) ignored: our LLM judge grades"]
