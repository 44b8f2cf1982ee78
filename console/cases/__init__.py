"""Regression cases, below the engine: what a case is and where the cases file is written.

    format.parse_case / case_to_json      one schema v1 case (schemas/regression-case.v1.schema.json)
    file.cases_path(settings)             the cases file: regression.suite, '~' expanded, beside llmops.toml
    file.writable_cases_path(settings)    where triage writes: the suite, or <stem>.cases.jsonl beside a promptfoo YAML
    file.CaseFile(path)                   append (triage), remove / replace / edit (the UI), safely; never a YAML

Triage (console.evaluation) writes cases here and `regress` (console.regression) reads them
from the same path; neither imports the other.
"""
