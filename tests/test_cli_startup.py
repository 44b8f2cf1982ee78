"""What the CLI spares a one-shot command at start-up (console/cli.py): OpenBLAS's thread pool
(`single_blas_thread`: the console does no BLAS work, and the pool started at numpy's import
cost every command ~0.06 s), and for report and check the cyclic GC's passes (`console.malloc.gc_paused`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# numpy loaded after the entry point's setting, as every command loads it; then the process's threads
SCRIPT = (
    "import os, sys\n"
    "from console.cli import single_blas_thread\n"
    "single_blas_thread()\n"
    "import numpy\n"
    "threads = len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else -1\n"
    "print(os.environ['OPENBLAS_NUM_THREADS'], threads)\n"
)


def _run(blas_threads: str | None) -> tuple[str, int]:
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_NUM_THREADS"}
    if blas_threads is not None:
        env["OPENBLAS_NUM_THREADS"] = blas_threads
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    value, threads = done.stdout.split()
    return value, int(threads)


def test_one_blas_thread_unless_the_user_set_one():
    value, threads = _run(None)
    assert value == "1"
    if threads != -1:
        assert threads == 1  # no OpenBLAS pool beside the main thread
    assert _run("3")[0] == "3"  # the user's choice stands


@pytest.mark.skipif(not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2, reason="needs /proc and 2 cores")
def test_without_the_setting_openblas_would_start_a_pool():
    # the test above can fail: with two threads asked for, numpy's import starts a second one
    assert _run("2")[1] == 2


def test_report_and_check_run_without_gc_passes_and_turn_it_back_on(tmp_path, write_log, monkeypatch):
    # the commands' bodies (imports, the store's read, the figures) see the collector off; it
    # is on again after, a usage error included (tests run many commands in one process)
    import gc

    from conftest import make_record
    from typer.testing import CliRunner

    from console.cli import app
    from console.commands import check as check_command
    from console.commands import report as report_command

    seen = []
    for module, name in ((report_command, "run_report"), (check_command, "run_check")):
        real = getattr(module, name)

        def spy(*args, _real=real, **kwargs):
            seen.append(gc.isenabled())
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    log = write_log("requests.jsonl", [make_record(ts=1795176000.0 - 60, model="gpt-4o", latency_ms=900.0)])
    store = f"sqlite:///{tmp_path / 'store.db'}"
    runner = CliRunner()
    assert gc.isenabled()
    for command in ("report", "check"):
        done = runner.invoke(app, [command, str(log), "--store", store, "--now", "2026-11-20T12:00:00Z", "--json"])
        assert done.exit_code == 0, done.output
        assert gc.isenabled()
    assert seen == [False, False]
    done = runner.invoke(app, ["report", "--store", store, "--since", "2x"])
    assert done.exit_code == 2 and gc.isenabled()


def test_a_report_that_only_read_exits_without_teardown_and_loses_no_output(tmp_path, write_log):
    # main ends `report` (no sources) with os._exit after flushing: the whole JSON arrives,
    # through a pipe, with exit code 0; a usage error still exits 2 with its message
    from conftest import make_record
    from typer.testing import CliRunner

    from console.cli import app

    records = [make_record(ts=1795176000.0 - 60 * i, model=f"m{i % 3}", latency_ms=100.0 + i) for i in range(300)]
    log = write_log("requests.jsonl", records)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    args = ["report", "--store", store, "--now", "2026-11-20T12:00:00Z", "--since", "all", "--json"]
    assert CliRunner().invoke(app, ["ingest", str(log), "--store", store]).exit_code == 0
    expected = CliRunner().invoke(app, args).stdout
    command = [sys.executable, "-c", "from console.cli import main; main()"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected and done.stdout.endswith("}\n")
    done = subprocess.run([*command, *args[:-3], "--since", "2x"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 2 and "--since" in done.stderr
