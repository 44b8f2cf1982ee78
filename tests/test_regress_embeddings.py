"""`similar` assertions with an embedding provider ([regression.embeddings] in llmops.toml): cosine
similarity against the threshold (0.75 by default, as promptfoo); without a provider, or when
it fails, the assertion is skipped with the reason, never passed. The provider is a stub
OpenAI-compatible /embeddings server on 127.0.0.1: no network."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import local_http
from typer.testing import CliRunner

from console.cli import app
from console.config import EmbeddingSettings
from console.regression.embeddings import EmbeddingClient, EmbeddingError

runner = CliRunner()
VOCABULARY = ("refund", "days", "return", "weather", "sunny", "ahoy", "world")


class Stub(BaseHTTPRequestHandler):
    """A bag-of-words embedding over VOCABULARY; 'fail' answers 500, 'garbage' a non-embedding."""

    requests: list[tuple[dict, str | None]] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Stub.requests.append((body, self.headers.get("Authorization")))
        text = body["input"].lower()
        if self.path != "/v1/embeddings" or "fail" in text:
            self.send_response(500)
            self.end_headers()
            return
        vector = [float(text.count(word)) for word in VOCABULARY] + [0.01]
        reply = {"data": [{"embedding": "garbage" if "garbage" in text else vector}], "model": body["model"]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    Stub.requests = []
    with local_http(Stub) as url:
        yield url


CASES = [
    {"id": "close", "input": {"text": "q"}, "assert": [{"type": "similar", "value": "refund within 30 days"}]},
    {"id": "far", "input": {"text": "q"}, "assert": [{"type": "similar", "value": "refund within 30 days"}]},
    {"id": "strict", "input": {"text": "q"}, "assert": [{"type": "similar", "value": "refund days", "threshold": 0.99}]},
    {"id": "any-of", "input": {"text": "q"}, "assert": [{"type": "similar", "value": ["sunny weather", "ahoy world"]}]},
    {"id": "negated", "input": {"text": "q"}, "assert": [{"type": "not-similar", "value": "refund within 30 days"}]},
    {"id": "down", "input": {"text": "q"}, "assert": [{"type": "similar", "value": "fail please"}]},
    {"id": "garbled", "input": {"text": "q"}, "assert": [{"type": "similar", "value": "garbage"}]},
]  # fmt: skip
ANSWERS = {"close": "Refund: return it within 30 days", "far": "It is sunny weather today", "strict": "refund, return in days",
           "any-of": "Ahoy, world!", "negated": "sunny weather", "down": "x", "garbled": "x"}  # fmt: skip


@pytest.fixture
def project(tmp_path, monkeypatch, stub):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in CASES))
    (tmp_path / "answers.jsonl").write_text("".join(json.dumps({"id": k, "output": v}) + "\n" for k, v in ANSWERS.items()))
    return tmp_path


def write_config(path, stub_url: str | None, extra: str = "") -> None:
    text = '[regression]\nsuite = "cases.jsonl"\n[regression.targets.replay]\ntype = "replay"\npath = "answers.jsonl"\n'
    if stub_url is not None:
        text += f'[regression.embeddings]\nurl = "{stub_url}"\nmodel = "text-embedding-3-small"\n{extra}'
    (path / "llmops.toml").write_text(text)


def verdicts(result) -> dict[str, tuple[str, str]]:
    doc = json.loads(result.stdout)
    return {c["id"]: (c["assertions"][0]["status"], c["assertions"][0]["reason"]) for c in doc["cases"]}


def test_similar_scores_cosine_similarity_with_the_configured_provider(project, stub, monkeypatch):
    monkeypatch.setenv("EMBEDDINGS_KEY", "sk-test")
    write_config(project, stub, 'api_key_env = "EMBEDDINGS_KEY"\n')
    result = runner.invoke(app, ["regress", "--json", "--baseline", "none"])
    got = verdicts(result)
    assert got["close"][0] == "pass" and "cosine similarity" in got["close"][1] and "pass at 0.75" in got["close"][1]
    assert got["far"][0] == "fail"
    assert got["strict"][0] == "fail" and "pass at 0.99" in got["strict"][1]  # the assertion's threshold
    assert got["any-of"][0] == "pass"  # the best of the references
    assert got["negated"][0] == "pass"
    # the provider failing is not the app failing: skipped, with the reason
    assert got["down"][0] == "skipped" and "answered HTTP 500" in got["down"][1]
    assert got["garbled"][0] == "skipped" and "not a non-empty list of numbers" in got["garbled"][1]
    bodies = [body for body, _ in Stub.requests]
    assert {b["model"] for b in bodies} == {"text-embedding-3-small"}
    assert {auth for _, auth in Stub.requests} == {"Bearer sk-test"}
    assert sum(b["input"] == "refund within 30 days" for b in bodies) == 1  # a reference is embedded once


def test_without_a_provider_similar_is_skipped_with_the_reason(project):
    write_config(project, None)
    result = runner.invoke(app, ["regress", "--json", "--baseline", "none"])
    got = verdicts(result)
    assert {status for status, _ in got.values()} == {"skipped"}
    assert got["close"][1].endswith("similar needs an embedding provider, and none is configured")
    assert json.loads(result.stdout)["counts"]["passed"] == 0 and not Stub.requests


@pytest.mark.parametrize(("table", "key"), [
    ('url = "http://127.0.0.1:1/v1"\n', "regression.embeddings.model"),
    ('url = ""\nmodel = "m"\n', "regression.embeddings.url"),
    ('url = "http://127.0.0.1:1/v1"\nmodel = "m"\ntimeout_s = 0\n', "regression.embeddings.timeout_s"),
])  # fmt: skip
def test_a_wrong_embeddings_table_is_a_config_error_naming_the_key(project, table, key):
    (project / "llmops.toml").write_text(f'[regression]\nsuite = "cases.jsonl"\n[regression.embeddings]\n{table}')
    result = runner.invoke(app, ["regress", "--target", "replay:answers.jsonl"])
    assert result.exit_code == 2 and key in result.output, result.output


def test_an_unreachable_provider_is_an_embedding_error():
    client = EmbeddingClient(EmbeddingSettings(url="http://127.0.0.1:9/v1", model="m", api_key_env=None, timeout_s=2))
    with pytest.raises(EmbeddingError, match="cannot reach http://127.0.0.1:9/v1/embeddings"):
        client("text")
