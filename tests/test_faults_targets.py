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

pytestmark = pytest.mark.resilience

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


# -- the python target: what the user's function does is contained -------------------------

PY_MODULE = '''
import asyncio, sys, time

def answer(case):
    q = case["input"]["vars"]["q"]
    if q == "raise":
        raise ValueError("nope")
    if q == "exit":
        sys.exit(3)
    if q == "interrupt":
        raise KeyboardInterrupt
    if q == "none":
        return None
    if q == "number":
        return 42
    if q == "list":
        return ["a", "b"]
    if q == "hang":
        time.sleep(5)
    return "fine " + q

async def answer_async(case):
    q = case["input"]["vars"]["q"]
    if q == "exit":
        sys.exit("bye")
    if q == "interrupt":
        raise KeyboardInterrupt
    if q == "hang":
        await asyncio.sleep(30)
    return "fine " + q
'''


@pytest.fixture
def py_module(tmp_path, monkeypatch):
    (tmp_path / "faulty_target_mod.py").write_text(PY_MODULE)
    (tmp_path / "exits_on_import_mod.py").write_text("import sys\nsys.exit(5)\ndef f(case):\n    return 'x'\n")
    monkeypatch.chdir(tmp_path)
    return "faulty_target_mod"


def py_target(module: str, function: str):
    return build_target("py", RegressionTarget(type="python", function=f"{module}:{function}"))


def q_case(q: str):
    return make_case(case_id=q, input={"vars": {"q": q}})


@pytest.mark.parametrize("function", ["answer", "answer_async"])
def test_python_target_faults_error_their_case_and_the_run_goes_on(py_module, function):
    target = py_target(py_module, function)
    names = ["before", "raise", "exit", "interrupt", "none", "number", "list", "hang", "after"]
    if function == "answer_async":
        names = ["before", "exit", "interrupt", "hang", "after"]
    outcome = run_cases(target, [q_case(q) for q in names], timeout_s=0.5, retries=1, backoff_s=0.01)
    results = {r.case_id: r for r in outcome.results}
    assert set(results) == set(names), "every case has a result: the run was not stopped"
    assert results["before"].status == results["after"].status == "pass"
    errors = {q: results[q].attempts[0].error for q in names if q not in ("before", "after")}
    assert all(results[q].status == "errored" for q in errors)
    assert errors["exit"].startswith("SystemExit: ")
    assert f"in {function})" in errors["exit"] and "faulty_target_mod.py:" in errors["exit"]
    assert errors["interrupt"].startswith("KeyboardInterrupt (at faulty_target_mod.py:")
    assert errors["hang"] == "timed out after 0.5 s"
    for q in ("exit", "interrupt"):
        assert results[q].attempts[0].tries == 1, "sys.exit and KeyboardInterrupt are not retried"
    if function == "answer":
        assert errors["raise"].startswith("ValueError: nope (at faulty_target_mod.py:")
        assert results["raise"].attempts[0].tries == 2, "an exception is retried once (retries=1)"
        assert "got NoneType" in errors["none"] and "got int" in errors["number"] and "got list" in errors["list"]


def test_sys_exit_while_importing_the_target_is_a_config_error(py_module):
    from console.regression.targets import TargetConfigError

    with pytest.raises(TargetConfigError, match=r"importing it called sys.exit\(5\)"):
        py_target("exits_on_import_mod", "f")


def test_a_python_target_that_exits_does_not_end_the_regress_command(py_module, tmp_path):
    from typer.testing import CliRunner

    from console.cli import app

    suite = tmp_path / "cases.jsonl"
    suite.write_text("".join(json.dumps({"id": q, "input": {"vars": {"q": q}}, "assert": []}) + "\n"
                             for q in ("exit", "after")))  # fmt: skip
    result = CliRunner().invoke(app, ["regress", "--suite", str(suite), "--target", f"python:{py_module}:answer",
                                      "--baseline", "none", "--store", str(tmp_path / "s.db"), "--json"])  # fmt: skip
    assert result.exit_code in (0, 1), result.output  # the gate's verdict, not the function's exit code 3
    assert "SystemExit: 3" in result.output
