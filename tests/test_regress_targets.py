"""Each target for real: a subprocess command, a python callable, an HTTP stub server
speaking the OpenAI chat format on 127.0.0.1, and replay."""

from __future__ import annotations

import asyncio
import json
import sys
from http.server import BaseHTTPRequestHandler

import psutil
import pytest

from conftest import REPO, local_http
from console.cases.format import parse_case
from console.config import RegressionTarget
from console.regression.runner import Runner, RunOptions
from console.regression.targets import TargetConfigError, TargetError, build_target, case_payload

APP = [sys.executable, str(REPO / "tests" / "fixtures" / "regress_app.py")]


def make_case(case_id="c1", **fields):
    body = {"id": case_id, "input": {"vars": {"mode": "text", "q": "hi"}}, "assert": []}
    body.update(fields)
    return parse_case(json.dumps(body))


def call(target, case, **context):
    return asyncio.run(target.run(case_payload(case, {"attempt": 1, **context}), case))


def run_cases(target, cases, **options):
    return Runner(target, cases, RunOptions(**options)).run_blocking()


# -- command ---------------------------------------------------------------------------


def test_command_plain_text_and_json_replies():
    target = build_target("app", RegressionTarget(type="command", argv=APP))
    out = call(target, make_case())
    assert out.output == "answer to hi" and out.latency_ms > 0
    out = call(target, make_case(input={"vars": {"mode": "json"}}))
    assert (out.output, out.latency_ms, out.cost_usd, out.tokens) == ("structured", 42.5, 0.0012, 99)


def test_command_gets_the_case_and_its_context_on_stdin():
    target = build_target("app", RegressionTarget(type="command", argv=APP))
    out = call(target, make_case(input={"vars": {"mode": "context"}}), prompt_version="v9", model="gpt-4o")
    assert json.loads(out.output) == {"attempt": 1, "model": "gpt-4o", "prompt_version": "v9"}


def test_command_failure_is_an_error_with_stderr():
    target = build_target("app", RegressionTarget(type="command", argv=APP))
    with pytest.raises(TargetError, match="exited with 3: something broke"):
        call(target, make_case(input={"vars": {"mode": "fail"}}))
    missing = build_target("x", RegressionTarget(type="command", argv=["/nonexistent/program"]))
    with pytest.raises(TargetError, match="cannot start"):
        call(missing, make_case())


def test_a_hanging_command_is_killed_at_its_timeout_with_its_children(tmp_path):
    pids_file = tmp_path / "pids"
    target = build_target("app", RegressionTarget(type="command", argv=APP))
    case = make_case(input={"vars": {"mode": "family", "pids": str(pids_file)}})
    outcome = run_cases(target, [case], timeout_s=1.5, retries=0)
    attempt = outcome.results[0].attempts[0]
    assert outcome.results[0].status == "errored" and "timed out after 1.5 s" in attempt.error
    parent, child = map(int, pids_file.read_text().split())
    for pid in (parent, child):
        try:
            proc = psutil.Process(pid)
            proc.wait(timeout=5)  # reaped, or a zombie about to be
        except psutil.NoSuchProcess:
            continue
        assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE


def test_errors_are_retried_with_backoff(tmp_path):
    target = build_target("app", RegressionTarget(type="command", argv=APP))
    case = make_case(input={"vars": {"mode": "flaky", "marker": str(tmp_path / "m")}})
    outcome = run_cases(target, [case], retries=2, backoff_s=0.01)
    attempt = outcome.results[0].attempts[0]
    assert attempt.status == "pass" and attempt.output == "recovered" and attempt.tries == 2


def test_command_cwd_and_env(tmp_path):
    spec = RegressionTarget(type="command", argv=[sys.executable, "-c",
                            "import os,sys; sys.stdin.read(); print(os.getcwd(), os.environ['APP_MODE'])"],
                            cwd="sub", env={"APP_MODE": "test"})  # fmt: skip
    (tmp_path / "sub").mkdir()
    out = call(build_target("app", spec, base_dir=tmp_path), make_case())
    assert out.output == f"{tmp_path / 'sub'} test"
    with pytest.raises(TargetConfigError, match="not a directory"):
        build_target("app", spec, base_dir=tmp_path / "nowhere")


# -- python ----------------------------------------------------------------------------


@pytest.fixture
def app_module(tmp_path, monkeypatch):
    (tmp_path / "regress_target_mod.py").write_text(
        "import asyncio, time\n"
        "def sync_answer(case):\n    return 'sync ' + case['input']['vars']['q'] + ' ' + str(case['context'].get('model'))\n"
        "async def async_answer(case):\n    await asyncio.sleep(0)\n    return {'output': 'async', 'cost_usd': 0.5}\n"
        "def broken(case):\n    raise ValueError('nope')\n"
        "def slow(case):\n    time.sleep(30)\n"
        "async def slow_async(case):\n    await asyncio.sleep(30)\n"
        "def weird(case):\n    return 42\n"
        "def echo_context(case):\n    import json\n"
        "    return json.dumps({k: case['context'].get(k) for k in ('prompt_version', 'model')})\n"
    )
    monkeypatch.chdir(tmp_path)
    return "regress_target_mod"


def test_python_targets_sync_and_async(app_module):
    sync = build_target("p", RegressionTarget(type="python", function=f"{app_module}:sync_answer"))
    assert call(sync, make_case(), model="m1").output == "sync hi m1"
    asynchronous = build_target("p", RegressionTarget(type="python", function=f"{app_module}:async_answer"))
    out = call(asynchronous, make_case())
    assert (out.output, out.cost_usd) == ("async", 0.5)


def test_python_target_errors_and_timeouts(app_module):
    broken = build_target("p", RegressionTarget(type="python", function=f"{app_module}:broken"))
    with pytest.raises(TargetError, match="ValueError: nope"):
        call(broken, make_case())
    weird = build_target("p", RegressionTarget(type="python", function=f"{app_module}:weird"))
    with pytest.raises(TargetError, match="got int"):
        call(weird, make_case())
    for name in ("slow", "slow_async"):
        target = build_target("p", RegressionTarget(type="python", function=f"{app_module}:{name}"))
        outcome = run_cases(target, [make_case()], timeout_s=0.2)
        assert outcome.results[0].status == "errored"
    with pytest.raises(TargetConfigError, match="cannot import"):
        build_target("p", RegressionTarget(type="python", function="no_such_module_xyz:f"))


# -- http ------------------------------------------------------------------------------


class StubChat(BaseHTTPRequestHandler):
    """Speaks the OpenAI chat completions format; remembers what it was sent."""

    received: list = []
    fail_first: int = 0

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self._send(503, {"error": {"message": "overloaded"}})
            return
        if body["model"] == "forbidden":
            self._send(400, {"error": {"message": "bad model"}})
            return
        last = body["messages"][-1]["content"]
        self._send(200, {
            "id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"echo: {last}"}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        })  # fmt: skip

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    StubChat.received, StubChat.fail_first = [], 0
    with local_http(StubChat) as url:
        yield url


def test_http_target_against_a_local_openai_stub(chat_server, tmp_path, monkeypatch):
    monkeypatch.setenv("STUB_KEY", "sk-test")
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "v9.txt").write_text("You help {{ customer }} with {{topic}}.")
    spec = RegressionTarget(type="http", base_url=chat_server, model="gpt-4o-mini", api_key_env="STUB_KEY",
                            prompt_file="prompts/{version}.txt", temperature=0, max_tokens=50)  # fmt: skip
    target = build_target("api", spec, base_dir=tmp_path, prompt_version="v9")
    case = make_case(input={"vars": {"customer": "Acme", "topic": "billing"}, "text": "Where is my invoice?"})
    out = call(target, case, prompt_version="v9", model="gpt-4o")
    assert out.output == "echo: Where is my invoice?" and out.tokens == 15
    sent = StubChat.received[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer sk-test"
    assert sent["body"]["model"] == "gpt-4o"  # --model wins over the target's
    assert sent["body"]["messages"] == [
        {"role": "system", "content": "You help Acme with billing."},
        {"role": "user", "content": "Where is my invoice?"},
    ]
    assert sent["body"]["temperature"] == 0 and sent["body"]["max_tokens"] == 50


def test_http_target_messages_retries_and_errors(chat_server):
    target = build_target("api", RegressionTarget(type="http", base_url=chat_server, model="m"))
    case = make_case(input={"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]})
    assert call(target, case).output == "echo: hello"
    assert StubChat.received[-1]["body"]["messages"][0] == {"role": "system", "content": "be brief"}
    StubChat.fail_first = 1  # a 503 is retried
    outcome = run_cases(target, [case], retries=2, backoff_s=0.01)
    assert outcome.results[0].status == "pass" and outcome.results[0].attempts[0].tries == 2
    with pytest.raises(TargetError, match="HTTP 400") as err:
        call(target, case, model="forbidden")
    assert err.value.retryable is False


def test_http_target_configuration_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(TargetConfigError, match="NO_SUCH_KEY_VAR is not set"):
        build_target("api", RegressionTarget(type="http", base_url="http://127.0.0.1:9", api_key_env="NO_SUCH_KEY_VAR"))
    with pytest.raises(TargetConfigError, match="cannot read the prompt"):
        build_target("api", RegressionTarget(type="http", base_url="http://127.0.0.1:9", prompt_file="missing.txt"),
                     base_dir=tmp_path)
    unreachable = build_target("api", RegressionTarget(type="http", base_url="http://127.0.0.1:9", model="m"))
    with pytest.raises(TargetError, match="cannot reach"):
        call(unreachable, make_case())


def _registry(tmp_path):
    folder = tmp_path / "prompts" / "support-answer"
    folder.mkdir(parents=True)
    (folder / "v1.md").write_text("---\nmodel: gpt-4o-mini\n---\nHelp {{ customer }}.\n")
    (folder / "v2.txt").write_text("Help {{ customer }}.\nNever promise a refund.\n")
    other = tmp_path / "prompts" / "triage"
    other.mkdir()
    (other / "v2.txt").write_text("Triage for {{ customer }}.")
    return tmp_path / "prompts"


def test_http_target_renders_the_registry_version(chat_server, tmp_path):
    root = _registry(tmp_path)
    (tmp_path / "fallback.txt").write_text("Fallback for {{ customer }}.")
    spec = RegressionTarget(type="http", base_url=chat_server, model="m", prompt_id="support-answer",
                            prompt_file="fallback.txt")  # fmt: skip
    target = build_target("api", spec, base_dir=tmp_path, prompt_version="v2", prompts_root=root)
    case = make_case(input={"vars": {"customer": "Acme"}, "text": "refund?"})
    call(target, case, prompt_version="v2")
    assert StubChat.received[-1]["body"]["messages"][0] == {
        "role": "system", "content": "Help Acme.\nNever promise a refund."}  # fmt: skip
    # the case's source.prompt_id wins over the target's
    sourced = make_case(input={"vars": {"customer": "Acme"}, "text": "x"}, source={"prompt_id": "triage"})
    call(target, sourced, prompt_version="v2")
    assert StubChat.received[-1]["body"]["messages"][0]["content"] == "Triage for Acme."
    # a version the registry does not hold, or no version: the prompt_file as before
    call(target, case, prompt_version="v7")
    assert StubChat.received[-1]["body"]["messages"][0]["content"] == "Fallback for Acme."
    call(target, case)
    assert StubChat.received[-1]["body"]["messages"][0]["content"] == "Fallback for Acme."
    # a missing variable is an error, not an empty string
    with pytest.raises(TargetError, match="customer"):
        call(target, make_case(input={"text": "x"}), prompt_version="v1")


def test_http_target_without_prompt_file_needs_the_registry_version(chat_server, tmp_path):
    root = _registry(tmp_path)
    spec = RegressionTarget(type="http", base_url=chat_server, model="m", prompt_file="prompts/{version}.txt")
    # the {version} file does not exist, the registry has the version: not a usage error
    target = build_target("api", spec, base_dir=tmp_path, prompt_version="v1", prompts_root=root)
    call(target, make_case(input={"vars": {"customer": "Bo"}, "text": "x"}, source={"prompt_id": "support-answer"}),
         prompt_version="v1")  # fmt: skip
    assert StubChat.received[-1]["body"]["messages"][0]["content"] == "Help Bo."
    with pytest.raises(TargetConfigError, match="cannot read the prompt"):
        build_target("api", spec, base_dir=tmp_path, prompt_version="v9", prompts_root=root)
    (root / "support-answer" / "v2.md").write_text("dup")
    with pytest.raises(TargetConfigError, match="duplicate version"):
        build_target("api", spec, base_dir=tmp_path, prompt_version="v1", prompts_root=root)


def test_regress_candidate_run_over_http_records_version_and_model(chat_server, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from console.cli import app
    from console.regression import history
    from console.store import Store

    monkeypatch.chdir(tmp_path)
    _registry(tmp_path)
    (tmp_path / "regression").mkdir()
    (tmp_path / "regression" / "cases.jsonl").write_text(json.dumps({
        "id": "c1", "input": {"vars": {"customer": "Acme"}, "text": "hi"},
        "assert": [{"type": "contains", "value": "echo"}], "source": {"prompt_id": "support-answer"},
    }) + "\n")  # fmt: skip
    (tmp_path / "llmops.toml").write_text(f"""
[regression.targets.api]
type = "http"
base_url = "{chat_server}"
model = "gpt-4o-mini"
""")
    result = CliRunner().invoke(app, ["regress", "--prompt-version", "v2", "--model", "gpt-4.1"])
    assert result.exit_code == 0, result.output
    sent = StubChat.received[-1]["body"]
    assert sent["model"] == "gpt-4.1"
    assert sent["messages"][0] == {"role": "system", "content": "Help Acme.\nNever promise a refund."}
    store = Store(str(tmp_path / ".llmops" / "console.db"))
    try:
        run = history.list_runs(store)[0]
        assert (run.prompt_version, run.model) == ("v2", "gpt-4.1")
    finally:
        store.close()


def test_python_target_gets_version_and_model_in_context(app_module):
    target = build_target("py", RegressionTarget(type="python", function=f"{app_module}:echo_context"))
    out = call(target, make_case(), prompt_version="v3", model="gpt-4o")
    assert json.loads(out.output) == {"prompt_version": "v3", "model": "gpt-4o"}


# -- replay ----------------------------------------------------------------------------


def test_replay_target(tmp_path):
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text(
        '{"id": "c1", "output": "first", "latency_ms": 800, "cost_usd": 0.01}\n'
        '{"case_id": "c1", "output": "second"}\n\n'
        '{"id": "c2", "error": "rate limited"}\n'
    )
    target = build_target("r", RegressionTarget(type="replay", path="recorded.jsonl"), base_dir=tmp_path)
    case = make_case("c1")
    first = call(target, case)
    assert (first.output, first.latency_ms, first.cost_usd) == ("first", 800, 0.01)
    assert asyncio.run(target.run(case_payload(case, {"attempt": 2}), case)).output == "second"
    assert asyncio.run(target.run(case_payload(case, {"attempt": 3}), case)).output == "first"
    with pytest.raises(TargetError, match="recorded error: rate limited"):
        call(target, make_case("c2"))
    with pytest.raises(TargetError, match="no recorded output for case 'c3'"):
        call(target, make_case("c3"))
    (tmp_path / "bad.jsonl").write_text('{"id": "c1", "output": "x"}\n{"output": "no id"}\n')
    with pytest.raises(TargetConfigError, match="bad.jsonl:2"):
        build_target("r", RegressionTarget(type="replay", path=str(tmp_path / "bad.jsonl")))


def test_http_target_refuses_a_version_whose_text_is_unknown(chat_server, tmp_path):
    """A version registered from logs (`init --from-logs`) has a placeholder body: it must
    never be sent to a model as the system prompt."""
    root = _registry(tmp_path)
    (root / "support-answer" / "v3.txt").write_text(
        '---\ntext_unknown: true\nprompt_hash: "abcdef123456"\n---\ntext unknown: registered from logs\n'
    )
    spec = RegressionTarget(type="http", base_url=chat_server, model="m", prompt_id="support-answer")
    target = build_target("api", spec, base_dir=tmp_path, prompt_version="v3", prompts_root=root)
    sent = len(StubChat.received)
    with pytest.raises(TargetError, match="text is unknown") as raised:  # the case errors, not retried
        call(target, make_case(input={"text": "x"}), prompt_version="v3")
    assert not raised.value.retryable
    assert len(StubChat.received) == sent, "nothing reached the model"
