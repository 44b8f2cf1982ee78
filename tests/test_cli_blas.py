"""The CLI's entry point asks OpenBLAS for one thread unless the user chose a number
(console/cli.py `single_blas_thread`): the console does no BLAS work, and OpenBLAS's pool
started at numpy's import cost every command ~0.06 s."""

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
