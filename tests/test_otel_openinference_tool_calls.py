"""An OpenInference answer that is a tool call keeps the call (found in the user trial).

sample_logs/otel/openinference/tool-calls.otlp.jsonl was written by the real
openinference-instrumentation-openai (0.1.66) around the real `openai` client (generate_tool_calls.py
against the local stub): a turn the model answers with a tool call and no text, then the turn
with the tool's result. Before, the first request's output was stored as '': the answer's
only content, llm.output_messages.0.message.tool_calls.0.tool_call.*, was dropped; in the
next turn's input the call sat in an `attributes` dict that no screen shows.
"""

from __future__ import annotations

import json

from conftest import REPO
from console.records import text_of
from console.sources.otlp import parse_traces_line

FOLDER = REPO / "sample_logs" / "otel" / "openinference"


def records():
    out = []
    for line in (FOLDER / "tool-calls.otlp.jsonl").read_text(encoding="utf-8").splitlines():
        out += parse_traces_line(line).records
    return sorted(out, key=lambda r: r.ts)


def test_a_tool_call_answer_keeps_the_call():
    truth = json.loads((FOLDER / "tool-calls.truth.json").read_text(encoding="utf-8"))
    calling, answering = records()
    assert [calling.request_id, answering.request_id] == [t["response_id"] for t in truth]
    assert calling.finish_reason == "tool_calls"
    (call,) = truth[0]["tool_calls"]
    expected = {"type": "tool_call", "id": call["id"], "name": call["function"]["name"],
                "arguments": call["function"]["arguments"]}
    assert calling.output == [{"role": "assistant", "content": [expected]}]
    # what the requests table and the detail show (text_of): the call, not an empty answer
    shown = text_of(calling.output)
    assert shown.startswith("assistant: ") and "lookup_order" in shown and "A-17" in shown
    # the next turn's input holds the same call in the assistant's message, then the tool's result
    assert answering.input[1] == {"role": "assistant", "content": [expected]}
    assert answering.input[2] == {"role": "tool", "tool_call_id": call["id"], "content": "Shipped on Monday."}


def test_a_text_answer_stays_text():
    _, answering = records()
    truth = json.loads((FOLDER / "tool-calls.truth.json").read_text(encoding="utf-8"))
    assert answering.output == truth[1]["content"]
