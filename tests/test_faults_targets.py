"""Regression targets cannot harm the host (issue 8, item 4): the command target runs argv
without a shell, with a minimal environment, its output capped, its process group killed."""

from __future__ import annotations

import json
import sys

import pytest

from console.config import RegressionTarget
from console.regression.targets import TargetError, build_target
from console.regression.targets.command import CommandTarget, minimal_env
from test_regress_targets import call, make_case, run_cases

ECHO = [sys.executable, "-c", "import json,sys; c=json.loads(sys.stdin.read()); print(c['input']['vars']['q'])"]
HOSTILE = "$(touch {m}) `touch {m}`; touch {m} && echo $HOME | cat > {m} 'x' \"y\" \\ * ? ~ <{m} >{m} {{a,b}} $((1+1)) %PATH% !!"


def test_shell_metacharacters_in_a_case_are_passed_through_literally(tmp_path):
    marker = tmp_path / "pwned"
    text = HOSTILE.format(m=marker)
    target = build_target("app", RegressionTarget(type="command", argv=ECHO))
    out = call(target, make_case(input={"vars": {"q": text}}))
    assert out.output == text
    assert not marker.exists()


def test_shell_metacharacters_in_argv_are_not_interpreted(tmp_path):
    marker = tmp_path / "pwned"
    argv = [sys.executable, "-c", "import sys; sys.stdin.read(); print(sys.argv[1])", f"; touch {marker} $(id)"]
    out = call(build_target("app", RegressionTarget(type="command", argv=argv)), make_case())
    assert out.output == f"; touch {marker} $(id)" and not marker.exists()


DUMP_ENV = [sys.executable, "-c", "import json,os,sys; sys.stdin.read(); print(json.dumps(dict(os.environ)))"]


def test_the_command_gets_a_minimal_environment_and_no_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-from-the-console")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    monkeypatch.setenv("LC_TIME", "C")
    monkeypatch.setenv("LANG", "C.UTF-8")
    target = build_target("app", RegressionTarget(type="command", argv=DUMP_ENV, env={"APP_MODE": "test"}))
    env = json.loads(call(target, make_case()).output)
    assert "OPENAI_API_KEY" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["APP_MODE"] == "test" and env["LC_TIME"] == "C" and env["LANG"] == "C.UTF-8"
    allowed = {"PATH", "HOME", "LANG", "TMPDIR", "TZ", "APP_MODE"}
    # the interpreter may add a few of its own (e.g. LC_CTYPE coercion); nothing from the parent
    assert {k for k in env if not k.startswith("LC_") and k not in allowed} <= {"PYTHONCOERCECLOCALE", "__CF_USER_TEXT_ENCODING"}


def test_a_secret_is_visible_only_when_configured(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-configured")
    spec = RegressionTarget(type="command", argv=DUMP_ENV, env={"OPENAI_API_KEY": "sk-configured"})
    env = json.loads(call(build_target("app", spec), make_case()).output)
    assert env["OPENAI_API_KEY"] == "sk-configured"
    assert minimal_env(None, {"PATH": "/bin", "LC_ALL": "C", "SECRET": "x"}) == {"PATH": "/bin", "LC_ALL": "C"}
    assert minimal_env({"A": "1"}, {"HOME": "/h"}) == {"HOME": "/h", "A": "1"}


def test_output_past_the_cap_is_an_error_and_the_process_is_killed(tmp_path):
    pid_file = tmp_path / "pid"
    argv = [sys.executable, "-c",
            "import os,sys,time; sys.stdin.read(); open(sys.argv[1],'w').write(str(os.getpid()))\n"
            "while True: sys.stdout.write('x' * 65536); sys.stdout.flush()", str(pid_file)]  # fmt: skip
    target = CommandTarget("app", argv, max_output_bytes=200_000)
    with pytest.raises(TargetError, match="wrote more than 200000 bytes on stdout: killed") as info:
        call(target, make_case())
    assert info.value.retryable is False
    import psutil

    pid = int(pid_file.read_text())
    try:
        proc = psutil.Process(pid)
        proc.wait(timeout=5)
    except psutil.NoSuchProcess:
        pass


def test_output_cap_default_is_one_mib_and_output_under_it_is_whole():
    argv = [sys.executable, "-c", "import sys; sys.stdin.read(); sys.stdout.write('y' * (1024 * 1024))"]
    out = call(CommandTarget("app", argv), make_case())
    assert len(out.output) == 1024 * 1024
    over = [sys.executable, "-c", "import sys; sys.stdin.read(); sys.stdout.write('y' * (1024 * 1024 + 1))"]
    with pytest.raises(TargetError, match="wrote more than 1048576 bytes"):
        call(CommandTarget("app", over), make_case())


def test_output_past_the_cap_errors_the_case_in_a_run(tmp_path):
    argv = [sys.executable, "-c", "import sys; sys.stdin.read(); sys.stdout.write('z' * 5000)"]
    outcome = run_cases(CommandTarget("app", argv, max_output_bytes=1000), [make_case()], retries=2, backoff_s=0.01)
    result = outcome.results[0]
    assert result.status == "errored" and "wrote more than 1000 bytes" in result.attempts[0].error
    assert result.attempts[0].tries == 1  # not retried: the same input would do the same


def test_the_working_directory_is_the_configured_one(tmp_path):
    (tmp_path / "work dir ü").mkdir()
    argv = [sys.executable, "-c", "import os,sys; sys.stdin.read(); print(os.getcwd())"]
    spec = RegressionTarget(type="command", argv=argv, cwd="work dir ü")
    out = call(build_target("app", spec, base_dir=tmp_path), make_case())
    assert out.output == str(tmp_path / "work dir ü")


# The grandchild killed at the timeout: test_regress_targets.py::test_a_hanging_command_is_killed_at_its_timeout_with_its_children
