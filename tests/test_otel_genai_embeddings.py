"""An embedding call from a GenAI-conventions instrumentation is not marked as missing usage.

sample_logs/otel/openai-v2/embeddings.otlp.jsonl was written by the real
opentelemetry-instrumentation-openai-v2 (2.4b0) around the real `openai` client's
embeddings.create against the local stub (generate_embeddings.py). Its spans carry
gen_ai.usage.input_tokens and, rightly, no output tokens; every one was stored with
otel.usage_missing ['output_tokens'] in its metadata (as OpenLLMetry's were, seen in the user
trial), the mark of a stream that did not ask for usage, though nothing was missing.
"""

from __future__ import annotations

import json

from conftest import REPO
from console.sources.otlp import parse_traces_line

FOLDER = REPO / "sample_logs" / "otel" / "openai-v2"


def test_embeddings_mark_only_what_is_missing():
    truth = json.loads((FOLDER / "embeddings.truth.json").read_text(encoding="utf-8"))
    records = []
    for line in (FOLDER / "embeddings.otlp.jsonl").read_text(encoding="utf-8").splitlines():
        records += parse_traces_line(line).records
    records.sort(key=lambda r: r.ts)
    assert [(r.model, r.status, r.error_type, r.input_tokens or None, r.output_tokens) for r in records] == [
        (t["model"], t["status"], t.get("error_type"), t["input_tokens"], 0) for t in truth]
    one, many, failed = records
    assert "otel.usage_missing" not in one.metadata
    assert "otel.usage_missing" not in many.metadata
    assert failed.metadata["otel.usage_missing"] == ["input_tokens"]  # a failed call's usage is missing
