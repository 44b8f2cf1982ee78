"""RequestLogger.instrument_openai with the real `openai` client against a local stub server."""

from __future__ import annotations

import importlib.util
import json
import sys

import openai
import pytest

from conftest import REPO
from console.emit import RequestLogger
from console.records import parse_line

STUB_PATH = REPO / "sample_logs" / "otel" / "stub_openai.py"
QUESTION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How do I reset my password?"}]


def load_stub():
    spec = importlib.util.spec_from_file_location("stub_openai", STUB_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.dont_write_bytecode, saved = True, sys.dont_write_bytecode  # keep sample_logs/ clean
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


StubServer = load_stub().StubServer


@pytest.fixture
def server():
    with StubServer(delay=0.02, chunk_delay=0.01) as running:
        yield running


@pytest.fixture
def log(tmp_path):
    with RequestLogger(tmp_path / "app.jsonl") as logger:
        yield logger


def logged(log: RequestLogger) -> list:
    with open(log.path, "rb") as handle:
        return [parse_line(line) for line in handle]


def client_for(log, server, **defaults):
    client = openai.OpenAI(base_url=server.base_url, api_key="stub", max_retries=0)
    return log.instrument_openai(client, **defaults)


def test_a_chat_completion_is_logged_and_returned_unchanged(log, server):
    client = client_for(log, server, prompt_id="support-answer", prompt_version="v7")
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, user="u-7")
    assert isinstance(completion, openai.types.chat.ChatCompletion)
    assert completion.choices[0].message.content.startswith("Open Settings")
    (record,) = logged(log)
    assert (record.model, record.response_model, record.provider) == ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai")
    assert record.prompt_ref == "support-answer@v7" and record.user_id == "u-7"
    assert record.input_tokens == completion.usage.prompt_tokens > 0
    assert record.output_tokens == completion.usage.completion_tokens > 0
    assert record.cached_input_tokens == completion.usage.prompt_tokens_details.cached_tokens
    assert (record.finish_reason, record.status, record.ttft_ms) == ("stop", "ok", None)
    assert record.input == QUESTION and record.output == completion.choices[0].message.content
    assert record.metadata == {"response_id": completion.id}
    assert record.latency_ms >= 20  # the stub's delay


def test_a_stream_is_logged_with_its_time_to_first_token_and_usage(log, server):
    client = client_for(log, server, prompt_id="support-answer", prompt_version="v7")
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True,
                                            stream_options={"include_usage": True})  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert all(isinstance(c, openai.types.chat.ChatCompletionChunk) for c in chunks)
    (record,) = logged(log)
    assert record.output == text and record.finish_reason == "stop"
    assert record.input_tokens > 0 and record.output_tokens > 0
    assert record.cached_input_tokens is None, "streams report no cached tokens here"
    assert 10 <= record.ttft_ms < record.latency_ms  # the first word comes after one chunk delay


def test_a_stream_without_usage_and_one_left_early(log, server):
    client = client_for(log, server)
    with log.prompt("faq", "v3"):
        with client.chat.completions.create(model="gpt-4o", messages=QUESTION, stream=True) as stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    break  # the app stops reading after the first word
    whole = client.chat.completions.create(model="gpt-4o", messages=QUESTION, stream=True)
    "".join(c.choices[0].delta.content or "" for c in whole if c.choices)
    early, complete = logged(log)
    assert early.prompt_ref == "faq@v3" and complete.prompt_ref == "unknown@unversioned"
    assert early.metadata["stream_closed_early"] is True and early.output == "Open"
    assert (complete.input_tokens, complete.output_tokens) == (0, 0)  # not asked for
    assert complete.output.startswith("Open Settings") and complete.ttft_ms is not None


def test_an_http_error_is_logged_and_raised_to_the_app(log, server):
    client = client_for(log, server, prompt_id="support-answer", prompt_version="v7")
    server.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    server.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        list(client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True))
    for record in logged(log):
        assert (record.status, record.error_type) == ("error", "openai.InternalServerError")
        assert "500" in record.error_message
        assert (record.input_tokens, record.output_tokens) == (0, 0)


async def test_the_async_client_is_logged_too(log, server):
    client = log.instrument_openai(openai.AsyncOpenAI(base_url=server.base_url, api_key="stub", max_retries=0),
                                   prompt_id="support-answer", prompt_version="v8")  # fmt: skip
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    stream = await client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True,
                                                  stream_options={"include_usage": True})  # fmt: skip
    parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    plain, streamed = logged(log)
    assert plain.output == completion.choices[0].message.content and plain.prompt_ref == "support-answer@v8"
    assert streamed.output == "".join(parts) and streamed.ttft_ms is not None and streamed.output_tokens > 0


def test_the_three_line_adoption_from_the_readme(tmp_path, server):
    app_code = f"""
from openai import OpenAI
from console.emit import RequestLogger
log = RequestLogger({str(tmp_path / 'requests.jsonl')!r})
client = log.instrument_openai(OpenAI(base_url={server.base_url!r}, api_key="stub"))
client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "refund?"}}])
"""
    exec(compile(app_code, "app.py", "exec"), {})
    (line,) = (tmp_path / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["output"].startswith("Refunds")
