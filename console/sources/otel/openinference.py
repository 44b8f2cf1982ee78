"""OpenInference spans (Arize Phoenix's openinference-instrumentation-*): llm.* attributes.

A model call is a span with openinference.span.kind = LLM (or EMBEDDING: _read_embedding).
llm.model_name is the model the provider answered with; the model asked for is in llm.invocation_parameters (a JSON string),
which is all a failed call has. Messages are flattened into
llm.input_messages.<i>.message.role / .content (or .contents.<j>.message_content.text),
token counts are llm.token_count.*, and the prompt template's version, the session and the
user are llm.prompt_template.version, session.id and user.id (read through OtlpOptions).
"""

from __future__ import annotations

import re

from console.sources.otel.encoding import as_dict, count, json_value, pop_first
from console.sources.otel.genai import read_usage, set_messages

SPAN_KIND = "openinference.span.kind"
_MESSAGE_KEY = re.compile(r"^llm\.(input|output)_messages\.(\d+)\.message\.(.+)$")
_CONTENTS_TEXT = re.compile(r"^contents\.(\d+)\.message_content\.text$")
_TOOL_CALL_KEY = re.compile(r"^tool_calls\.(\d+)\.tool_call\.(id|function\.name|function\.arguments)$")
_EMBEDDING_KEY = re.compile(r"^embedding\.embeddings\.(\d+)\.embedding\.(text|vector)$")


def is_openinference(attrs: dict) -> bool:
    return SPAN_KIND in attrs


def read(attrs: dict, fields: dict) -> bool:
    """Fill fields from an OpenInference LLM or EMBEDDING span; False for its other kinds
    (chain, tool, retriever...)."""
    kind = str(attrs.get(SPAN_KIND, "")).upper()
    if kind == "EMBEDDING":
        return _read_embedding(attrs, fields)
    if kind != "LLM":
        return False
    if not _read_model(attrs, fields, "llm"):
        return False
    read_usage(attrs, fields, ("llm.token_count.prompt",), ("llm.token_count.completion",),
               ("llm.token_count.prompt_details.cache_read",), ("llm.token_count.completion_details.reasoning",))
    reason = attrs.pop("llm.finish_reason", None)
    if reason:
        fields["finish_reason"] = str(reason)
    inputs, outputs = _messages(attrs, "input"), _messages(attrs, "output")
    set_messages(fields, inputs, outputs)
    output_value = attrs.get("output.value")
    response = as_dict(json_value(output_value)) if attrs.get("output.mime_type") == "application/json" else {}
    if isinstance(response.get("id"), str) and response["id"]:
        fields["request_id"] = response["id"]
    if inputs:  # the request and response bodies repeat what the messages hold
        attrs.pop("input.value", None)
    if outputs:
        attrs.pop("output.value", None)
    return True


def _messages(attrs: dict, side: str) -> list[dict] | None:
    """llm.<side>_messages.<i>.message.* back into a list of {role, content} messages."""
    by_index: dict[int, dict] = {}
    for key in [k for k in attrs if k.startswith(f"llm.{side}_messages.")]:
        match = _MESSAGE_KEY.match(key)
        if match is None:
            continue
        value = attrs.pop(key)
        message = by_index.setdefault(int(match[2]), {})
        name = match[3]
        text = _CONTENTS_TEXT.match(name)
        if text:
            message.setdefault("_parts", {})[int(text[1])] = str(value)
        elif name in ("role", "content", "name", "tool_call_id"):
            message[name] = value
        else:
            message.setdefault("_extra", {})[name] = value
    if not by_index:
        return None
    out = []
    for _, message in sorted(by_index.items()):
        parts = message.pop("_parts", None)
        extra = message.pop("_extra", None)
        if "content" not in message:
            message["content"] = "".join(parts[i] for i in sorted(parts)) if parts else ""
        calls = _tool_calls(extra) if extra else None
        if calls:  # in the content, as the GenAI conventions' parts: shown wherever the text is
            text = message["content"]
            message["content"] = ([{"type": "text", "content": text}] if text else []) + calls
        message.setdefault("role", "assistant" if side == "output" else "user")
        if extra:  # anything else, kept as written
            message["attributes"] = extra
        out.append(message)
    return out


def _tool_calls(extra: dict) -> list[dict] | None:
    """tool_calls.<i>.tool_call.id / .function.name / .function.arguments, taken out of extra,
    as [{type: tool_call, id, name, arguments}] (arguments as written: a JSON string)."""
    by_index: dict[int, dict] = {}
    for key in [k for k in extra if k.startswith("tool_calls.")]:
        match = _TOOL_CALL_KEY.match(key)
        if match is None:
            continue
        by_index.setdefault(int(match[1]), {"type": "tool_call"})[match[2].removeprefix("function.")] = extra.pop(key)
    return [by_index[i] for i in sorted(by_index)] or None


def _read_model(attrs: dict, fields: dict, prefix: str) -> bool:
    """model (the one asked for in <prefix>.invocation_parameters, else <prefix>.model_name),
    response_model and provider; False when the span names no model."""
    invocation = as_dict(json_value(attrs.get(f"{prefix}.invocation_parameters")))
    response_model = attrs.pop(f"{prefix}.model_name", None)
    model = invocation.get("model") or response_model
    if not model:
        return False
    fields["model"] = str(model)
    if response_model:
        fields["response_model"] = str(response_model)
    provider = pop_first(attrs, "llm.provider", "llm.system")
    if provider:
        fields["provider"] = str(provider)
    return True


def _read_embedding(attrs: dict, fields: dict) -> bool:
    """An embedding call is a priced model call, as the GenAI conventions' `embeddings`
    operation is: embedding.model_name (the model asked for in embedding.invocation_parameters,
    all a failed call has), its input tokens in llm.token_count.prompt, the texts in
    embedding.embeddings.<i>.embedding.text. It has no output tokens to miss. The vectors
    (embedding.embeddings.<i>.embedding.vector, and output.value repeating them) are dropped,
    their count kept: hundreds to thousands of floats a text, nothing to read, they would
    outweigh everything else stored of the request."""
    if not _read_model(attrs, fields, "embedding"):
        return False
    tokens = count(attrs.pop("llm.token_count.prompt", None))
    fields["input_tokens"], fields["output_tokens"] = tokens or 0, 0
    if tokens is None:  # a failed call
        attrs["otel.usage_missing"] = ["input_tokens"]
    texts: dict[int, str] = {}
    vectors = 0
    for key in [k for k in attrs if k.startswith("embedding.embeddings.")]:
        match = _EMBEDDING_KEY.match(key)
        if match is None:
            continue
        if match[2] == "text":
            texts[int(match[1])] = str(attrs.pop(key))
        elif match[2] == "vector":
            attrs.pop(key)
            vectors += 1
    if texts:
        set_messages(fields, [{"role": "user", "content": texts[i]} for i in sorted(texts)], None)
        attrs.pop("input.value", None)  # the request body repeats the texts
    if vectors:
        attrs["otel.embedding_vectors_dropped"] = vectors
    attrs.pop("output.value", None)  # the response body: the vectors again
    return True
