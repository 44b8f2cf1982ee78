"""Scorers on crafted records, user scorers, a scorer that raises, and the judge over HTTP."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from console.config import EvaluationSettings, JudgeSettings, Settings, Slo
from console.evaluation.scorers import (
    Scorer, ScorerError, build_scorers, builtin_scorers, load_user_scorer, score_record,
)  # fmt: skip
from console.judge import Judge, JudgeError
from console.records import RequestRecord


def record(**overrides) -> RequestRecord:
    fields = dict(
        ts=1_790_000_000.0, request_id="req_1", model="gpt-4o", prompt_id="support-answer", prompt_version="v7",
        input_tokens=100, output_tokens=40, latency_ms=900.0, status="ok",
        input="How do I reset my password?", output="Open Settings, then Security.", finish_reason="stop",
    )  # fmt: skip
    fields.update(overrides)
    return RequestRecord(**fields)


SETTINGS = Settings(
    slos=[Slo(max_ms=2000)],
    evaluation=EvaluationSettings(
        json_prompts=["ticket-classifier"], min_output_tokens=5, max_output_tokens=500,
        refusal_phrases=["outside my remit"],
    ),  # fmt: skip
)


def scores_of(rec: RequestRecord, settings: Settings = SETTINGS) -> dict[str, tuple[float, str]]:
    result = score_record(rec, builtin_scorers(settings))
    assert result.failures == []
    return {s.scorer: (s.score, s.reason) for s in result.scores}


def test_a_good_response_scores_one_everywhere():
    scores = scores_of(record(feedback=1.0))
    assert set(scores) == {"error", "empty_output", "refusal", "truncated", "output_length", "latency", "feedback"}
    assert all(score == 1.0 for score, _ in scores.values())
    assert "invalid_json" not in scores  # support-answer is not a JSON prompt


def test_error():
    score, reason = scores_of(record(status="error", error_type="RateLimitError", error_message="429 slow down", output=None))["error"]
    assert score == 0.0 and "RateLimitError" in reason and "429" in reason


def test_empty_output():
    assert scores_of(record(output="   \n"))["empty_output"][0] == 0.0
    assert scores_of(record(output=None))["empty_output"][0] == 0.0
    assert "empty_output" not in scores_of(record(status="error", output=None))


@pytest.mark.parametrize(
    "text",
    ["I'm sorry, but I can't help with that.", "I cannot assist with that request.", "As an AI language model, I",
     "I’m unable to provide refunds.", "That is outside my remit, sorry."],
)  # fmt: skip
def test_refusal_phrasing(text):
    score, reason = scores_of(record(output=text))["refusal"]
    assert score < 0.5 and reason.startswith("“")


def test_no_refusal_in_an_ordinary_answer():
    assert scores_of(record(output="You can cancel anytime; I can help with that."))["refusal"][0] == 1.0


@pytest.mark.parametrize("reason", ["length", "max_tokens"])
def test_truncated(reason):
    score, why = scores_of(record(finish_reason=reason))["truncated"]
    assert score < 0.5 and reason in why


def test_truncated_does_not_apply_without_a_finish_reason():
    assert "truncated" not in scores_of(record(finish_reason=None))


def test_invalid_json_only_where_the_prompt_expects_json():
    json_prompt = dict(prompt_id="ticket-classifier", prompt_version="v4")
    assert scores_of(record(output='{"label": "billing"}', **json_prompt))["invalid_json"][0] == 1.0
    assert scores_of(record(output={"label": "billing"}, **json_prompt))["invalid_json"][0] == 1.0
    score, reason = scores_of(record(output="label: billing", **json_prompt))["invalid_json"]
    assert score == 0.0 and "not JSON" in reason
    assert "invalid_json" not in scores_of(record(output="label: billing"))


def test_output_length_bounds():
    assert scores_of(record(output_tokens=2))["output_length"][0] < 0.5
    assert scores_of(record(output_tokens=900))["output_length"][0] < 0.5
    assert scores_of(record(output_tokens=200))["output_length"][0] == 1.0
    assert "output_length" not in scores_of(record(output_tokens=900), Settings())


def test_latency_over_the_slo():
    score, reason = scores_of(record(latency_ms=2500.0))["latency"]
    assert score < 0.5 and "2.50s" in reason and "2.00s SLO" in reason
    assert "latency" not in scores_of(record(latency_ms=99_000.0), Settings())


@pytest.mark.parametrize(("feedback", "expected"), [(-1.0, 0.0), ("down", 0.0), (0.0, 0.5), (1.0, 1.0), ("up", 1.0)])
def test_feedback_maps_onto_0_1(feedback, expected):
    assert scores_of(record(feedback=feedback))["feedback"][0] == expected


def test_a_scorer_that_raises_is_reported_and_the_others_go_on():
    def broken(rec):
        raise KeyError("metadata")

    scorers = [Scorer("broken", broken), *builtin_scorers(SETTINGS), Scorer("too_big", lambda rec: 7)]
    result = score_record(record(request_id="req_boom", status="error", output=None), scorers)
    assert [(f.scorer, f.request_id) for f in result.failures] == [("broken", "req_boom"), ("too_big", "req_boom")]
    assert "KeyError" in str(result.failures[0]) and "req_boom" in str(result.failures[0])
    assert "not a score in [0, 1]" in result.failures[1].error
    assert result.lowest.scorer == "error"
    assert len(result.scores) >= 3


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_quality.py").write_text(
        "def politeness(record):\n"
        "    text = record.output or ''\n"
        "    return (1.0, 'polite') if 'please' in text else (0.25, 'curt')\n"
        "def bare(record):\n"
        "    return 0.5\n"
        "def skip(record):\n"
        "    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_quality"


def test_user_scorers_from_config(user_module):
    settings = Settings(evaluation=EvaluationSettings(scorers=[f"{user_module}:politeness", f"{user_module}:bare", f"{user_module}:skip"]))
    scorers = build_scorers(settings)
    names = [s.name for s in scorers]
    assert names[-3:] == ["my_quality:politeness", "my_quality:bare", "my_quality:skip"]
    result = score_record(record(output="Do it now."), scorers)
    by_name = {s.scorer: s for s in result.scores}
    assert by_name["my_quality:politeness"].score == 0.25 and by_name["my_quality:politeness"].reason == "curt"
    assert by_name["my_quality:bare"].score == 0.5
    assert "my_quality:skip" not in by_name


def test_a_missing_user_scorer_is_named(user_module):
    with pytest.raises(ScorerError, match="my_quality:nope"):
        load_user_scorer(f"{user_module}:nope")
    with pytest.raises(ScorerError, match="no_such_module"):
        load_user_scorer("no_such_module:f")


# -- the judge, against a stub OpenAI-compatible server on 127.0.0.1 -------------------------


class StubHandler(BaseHTTPRequestHandler):
    reply: str = '{"score": 0.2, "reason": "invents a refund policy"}'
    status: int = 200
    seen: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, dict(self.headers), body))
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": type(self).reply}}]}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub_server():
    StubHandler.seen = []
    StubHandler.reply = '{"score": 0.2, "reason": "invents a refund policy"}'
    StubHandler.status = 200
    server = HTTPServer(("127.0.0.1", 0), StubHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_judge_is_off_by_default():
    assert "judge" not in [s.name for s in build_scorers(Settings())]


def test_the_judge_asks_with_the_rubric_and_returns_its_score(stub_server, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    judge_settings = JudgeSettings(enabled=True, url=stub_server, model="judge-1", rubric="Grounded in the help center.", api_key_env="JUDGE_KEY")
    scorers = build_scorers(Settings(evaluation=EvaluationSettings(judge=judge_settings)))
    assert scorers[-1].name == "judge"
    result = score_record(record(output="Refunds are always 200%."), scorers)
    judged = next(s for s in result.scores if s.scorer == "judge")
    assert judged.score == 0.2 and "invents a refund policy" in judged.reason
    path, headers, body = StubHandler.seen[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "judge-1"
    assert "Grounded in the help center." in body["messages"][0]["content"]
    assert "Refunds are always 200%." in body["messages"][1]["content"]


def test_a_judge_reply_with_prose_around_the_json_is_read(stub_server):
    StubHandler.reply = 'Sure. {"score": 1, "reason": "fine"} Hope that helps.'
    assert Judge(JudgeSettings(enabled=True, url=stub_server))(record()) == (1.0, "judge: fine")


@pytest.mark.parametrize(("reply", "status", "message"), [
    ("no idea", 200, "did not give a score"),
    ('{"score": 3}', 200, "outside [0, 1]"),
    ('{"score": 0.5}', 500, "HTTP 500"),
])  # fmt: skip
def test_judge_failures_are_scorer_failures(stub_server, reply, status, message):
    StubHandler.reply, StubHandler.status = reply, status
    with pytest.raises(JudgeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Judge(JudgeSettings(enabled=True, url=stub_server))(record())
    result = score_record(record(), [Scorer("judge", Judge(JudgeSettings(enabled=True, url=stub_server)))])
    assert result.failures and result.failures[0].scorer == "judge" and result.failures[0].request_id == "req_1"


def test_an_unreachable_judge_is_a_failure_not_a_crash():
    judge = Judge(JudgeSettings(enabled=True, url="http://127.0.0.1:9/v1", timeout_s=2))
    result = score_record(record(), [Scorer("judge", judge), Scorer("error", lambda r: (1.0, "ok"))])
    assert result.failures[0].scorer == "judge" and "cannot reach" in result.failures[0].error
    assert [s.scorer for s in result.scores] == ["error"]
