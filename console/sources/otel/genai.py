"""The GenAI semantic conventions (gen_ai.*): v1.37 and later, and the older names.

Written this way by opentelemetry-instrumentation-openai-v2, OpenLLMetry, openlit and
Logfire; the quirks of each are read here too:
- openlit writes its own token estimates for a stream that did not ask for usage (and a
  cost from them). They are not the provider's counts: the record keeps 0 tokens, marked
  missing like any stream without usage, and the estimates go to metadata under
  otel.tokens_estimated (the cost under otel.estimated_cost_usd), so spend from them is
  never counted as real. Its gen_ai.server.time_to_first_token is not a time to first
  token (it is the whole call, or a fraction of a millisecond for a stream) and is not read.
- Logfire writes gen_ai.response.finish_reasons as a JSON string ('["stop"]').
"""

from __future__ import annotations

from typing import Any

from console.records import ESTIMATED_COST, ESTIMATED_TOKENS
from console.sources.otel.encoding import as_list, attributes_of, count, json_value, pop_first

# Operations that are not a model call: a tool run or an agent step (its model calls are
# their own spans, which would otherwise be counted twice).
NOT_MODEL_CALLS = frozenset({"execute_tool", "invoke_agent", "create_agent", "invoke_workflow"})
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
CACHED_TOKENS = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
REASONING_TOKENS = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")


def read(attrs: dict, span: dict, scope: str, fields: dict) -> bool:
    """Fill fields from a gen_ai.* span; False when the span is not a model call."""
    operation = attrs.get("gen_ai.operation.name")  # stays in metadata
    request_model = attrs.pop("gen_ai.request.model", None)
    response_model = attrs.pop("gen_ai.response.model", None)
    if operation in NOT_MODEL_CALLS or not (request_model or response_model):
        return False
    fields["model"] = str(request_model or response_model)
    if response_model:
        fields["response_model"] = str(response_model)
    response_id = attrs.pop("gen_ai.response.id", None)
    if response_id:
        fields["request_id"] = str(response_id)
    provider = pop_first(attrs, "gen_ai.provider.name", "gen_ai.system")
    if provider:
        fields["provider"] = str(provider)
    if scope.startswith("openlit") and _openlit_estimated(attrs):
        estimated = {"input_tokens": count(pop_first(attrs, *INPUT_TOKENS)),
                     "output_tokens": count(pop_first(attrs, *OUTPUT_TOKENS)), "by": "openlit"}
        attrs[ESTIMATED_TOKENS] = estimated
        cost = attrs.pop("gen_ai.usage.cost", None)
        if cost is not None:
            attrs[ESTIMATED_COST] = cost
    read_usage(attrs, fields, INPUT_TOKENS, OUTPUT_TOKENS, CACHED_TOKENS, REASONING_TOKENS)
    if operation == "embeddings":  # an embedding has no output tokens to miss
        _not_missing(attrs, "output_tokens")
    reasons = json_value(attrs.pop("gen_ai.response.finish_reasons", None))
    if isinstance(reasons, str):
        reasons = [reasons]
    if reasons:
        given_ones = iter(reasons)  # then reasons[0]: in this order, as next(gen, default) did (same errors)
        reason = reasons[0]
        for given in given_ones:  # the first that is set, else the first
            if given:
                reason = given
                break
        fields["finish_reason"] = str(reason)
    _content(span, attrs, fields)
    return True


def _not_missing(attrs: dict, name: str) -> None:
    missing = [m for m in attrs.get("otel.usage_missing") or () if m != name]
    if missing:
        attrs["otel.usage_missing"] = missing
    else:
        attrs.pop("otel.usage_missing", None)


def _openlit_estimated(attrs: dict) -> bool:
    """openlit counts a stream's tokens itself unless the stream's last chunk carried usage;
    only then does it set the cache counts (0 included), so their absence tells."""
    return attrs.get("gen_ai.request.stream") is True and not any(key in attrs for key in CACHED_TOKENS)


def read_usage(attrs: dict, fields: dict, inputs: tuple, outputs: tuple, cached: tuple, reasoning: tuple) -> None:
    """Tokens; missing usage (a stream that did not ask for it, a failed call) reads as 0."""
    missing = []
    value = count(pop_first(attrs, *inputs))
    if value is None:
        missing.append("input_tokens")
    fields["input_tokens"] = value or 0
    value = count(pop_first(attrs, *outputs))
    if value is None:
        missing.append("output_tokens")
    fields["output_tokens"] = value or 0
    keys = attrs.keys()
    if not keys.isdisjoint(cached):  # else none to take out (most spans have neither)
        value = count(pop_first(attrs, *cached))
        if value is not None:
            fields["cached_input_tokens"] = value
    if not keys.isdisjoint(reasoning):
        value = count(pop_first(attrs, *reasoning))
        if value is not None:
            fields["reasoning_tokens"] = value
    if missing:
        attrs["otel.usage_missing"] = missing


def _content(span: dict, attrs: dict, fields: dict) -> None:
    """gen_ai.input/output.messages when captured (v1.37+), else the older prompt/completion events."""
    instructions = attrs.pop("gen_ai.system_instructions", None)
    messages = _messages(attrs.pop("gen_ai.input.messages", None))
    if instructions is not None:
        system = [{"role": "system", "content": _parts_text(json_value(instructions))}]
        messages = system + (messages or [])
    output = _messages(attrs.pop("gen_ai.output.messages", None))
    if messages is None or output is None:
        for event in as_list(span.get("events")):
            if not isinstance(event, dict):
                continue
            event_attrs = attributes_of(event)
            if messages is None and event.get("name") == "gen_ai.content.prompt":
                messages = _messages(event_attrs.get("gen_ai.prompt"))
            elif output is None and event.get("name") == "gen_ai.content.completion":
                output = _messages(event_attrs.get("gen_ai.completion"))
    if "finish_reason" not in fields:  # openai-v2 writes a stream's only in its output messages
        reason = next((m["finish_reason"] for m in output or () if m.get("finish_reason")), None)
        if reason:
            fields["finish_reason"] = str(reason)
    set_messages(fields, messages, output)


def set_messages(fields: dict, messages: list[dict] | None, output: list[dict] | None) -> None:
    """input as {role, content} messages; output as text when it is only assistant text (a
    message that also carries tool calls, as OpenInference's `attributes`, stays a message:
    its text alone is often empty and the call would be lost)."""
    if messages:
        fields["input"] = messages
    if output:
        texts = [m["content"] for m in output if m.get("role") == "assistant" and isinstance(m["content"], str)
                 and "attributes" not in m and "tool_calls" not in m]
        fields["output"] = "\n".join(texts) if len(texts) == len(output) else output


def _messages(value: Any) -> list[dict] | None:
    """Semantic-convention messages ({role, parts: [{type, content}]}) as {role, content}."""
    value = json_value(value)
    if value is None:
        return None
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = [value]
    elif not isinstance(value, list):
        return []
    out = []
    for message in value:
        if not isinstance(message, dict):
            out.append({"content": str(message)})
            continue
        get_key = message.get
        content = get_key("content")
        if content is None:
            parts = get_key("parts")
            if parts.__class__ is list and len(parts) == 1 and parts[0].__class__ is dict \
                    and parts[0].get("type", "text") == "text":  # fmt: skip
                content = parts[0].get("content", "")  # _parts_text of the common case: one text part
                if content.__class__ is not str:
                    content = str(content)
            elif parts is not None or "parts" in message:
                content = _parts_text(parts)
        converted = {"role": get_key("role") or "assistant", "content": content if content is not None else ""}
        reason = get_key("finish_reason")
        if reason:
            converted["finish_reason"] = reason
        out.append(converted)
    return out


def _parts_text(parts: Any) -> Any:
    """Text parts joined; other parts (tool calls, images) kept as they are."""
    if isinstance(parts, str):
        return parts
    items = as_list(parts) if not isinstance(parts, dict) else [parts]
    texts = []
    for part in items:  # one pass, left at the first part that is not text
        if not isinstance(part, dict) or part.get("type", "text") != "text":
            return items
        texts.append(part.get("content", ""))
    if len(texts) == 1:  # the common case: one text part
        text = texts[0]
        return text if text.__class__ is str else str(text)
    return "".join(map(str, texts))
