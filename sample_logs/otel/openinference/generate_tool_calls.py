"""tool-calls.otlp.jsonl: openinference-instrumentation-openai's spans of a tool-calling turn.

The real `openai` client against the local stub (../stub_openai.py), with the same pinned
requirements as generate.py: a chat call offering one tool, which the stub calls (the answer
has no text, only llm.output_messages.0.message.tool_calls.0.tool_call.*), then the call that
hands the tool's result back and gets a text answer. tool-calls.truth.json holds what the
client saw of each.

    /tmp/otel-openinference/bin/python sample_logs/otel/openinference/generate_tool_calls.py
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402
from stub_openai import StubServer  # noqa: E402

HERE = Path(__file__).resolve().parent
TRACE = HERE / "tool-calls.otlp.jsonl"
TRUTH = HERE / "tool-calls.truth.json"
TOOLS = [{"type": "function", "function": {
    "name": "lookup_order", "description": "Find an order by its id",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


def main() -> None:
    import openai
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-chat"}))
    TRACE.write_bytes(b"")
    provider.add_span_processor(SimpleSpanProcessor(harness.CollectorFileExporter(TRACE)))
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    with StubServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="stub-key", max_retries=0)
        messages = [{"role": "user", "content": "Where is my order A-17?"}]
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        message = first.choices[0].message
        messages += [message.model_dump(exclude_none=True),
                     {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "Shipped on Monday."}]
        second = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    provider.shutdown()
    truth = [{"response_id": first.id, "finish_reason": first.choices[0].finish_reason, "content": message.content,
              "tool_calls": [call.model_dump() for call in message.tool_calls]},
             {"response_id": second.id, "finish_reason": second.choices[0].finish_reason,
              "content": second.choices[0].message.content, "tool_calls": None}]
    TRUTH.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TRACE} and {TRUTH}")


if __name__ == "__main__":
    main()
