"""The demo's temporary directory goes when the demo ends, however it ends; --workdir's stays.

Each `llmops-console demo` left a /tmp/llmops-demo-* behind (its logs, store and config:
tens of MB), so running the demo again and again filled /tmp."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console import cli
from console.commands.demo import run_demo


class _Console:
    """Stands for the TUI: notes the demo's directory as it runs, then quits (or raises)."""

    def __init__(self, raises: BaseException | None = None) -> None:
        self.raises = raises
        self.workdir: Path | None = None

    def __call__(self, sources: list[str], store_url: str, config: Path) -> None:
        self.workdir = Path(config).parent
        assert (self.workdir / "live.jsonl").exists() and all(Path(source).exists() for source in sources)
        if self.raises is not None:
            raise self.raises


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """Where tempfile makes its directories for this test (instead of the shared /tmp)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _simulators() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "demo-simulator"]


def test_quitting_the_demo_removes_its_temporary_directory(scratch, monkeypatch):
    console = _Console()
    monkeypatch.setattr(cli, "_run_console", console)
    result = CliRunner().invoke(cli.app, ["demo", "--rate", "2"])
    assert result.exit_code == 0, result.output
    assert console.workdir is not None and console.workdir.parent == scratch
    assert console.workdir.name.startswith("llmops-demo-")
    assert not console.workdir.exists()
    assert list(scratch.glob("llmops-demo-*")) == []
    assert "removed" in result.output and "--workdir" in result.output
    assert _simulators() == []  # stopped and joined before the removal: it appended to live.jsonl


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), RuntimeError("the console failed")], ids=["ctrl-c", "error"])
def test_ctrl_c_or_an_error_removes_it_too(scratch, raised):
    console = _Console(raises=raised)
    with pytest.raises(type(raised)):
        run_demo(rate=2.0, workdir=None, config=None, open_console=console)
    assert console.workdir is not None and not console.workdir.exists()
    assert list(scratch.glob("llmops-demo-*")) == []
    assert _simulators() == []


def test_a_workdir_given_is_kept_with_its_store_and_config(scratch, monkeypatch):
    console = _Console()
    monkeypatch.setattr(cli, "_run_console", console)
    workdir = scratch / "my demo"
    result = CliRunner().invoke(cli.app, ["demo", "--rate", "2", "--workdir", str(workdir)])
    assert result.exit_code == 0, result.output
    assert console.workdir == workdir
    assert (workdir / "llmops.toml").exists() and (workdir / "live.jsonl").exists()
    assert "kept in" in result.output


class _HungUp(_Console):
    """The terminal closes under the console (an SSH session dropped): SIGHUP, or a SIGTERM."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum = signum

    def __call__(self, sources: list[str], store_url: str, config: Path) -> None:
        super().__call__(sources, store_url, config)
        os.kill(os.getpid(), self.signum)
        time.sleep(5)  # the handler raises here
        raise AssertionError("the signal did not end the demo")


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["hangup", "term"])
def test_a_hangup_or_term_removes_it_too(scratch, signum):
    """Killing the demo's tmux session (SIGHUP) left its directory behind: the default action
    ends the process with no cleanup."""
    before = signal.getsignal(signum)
    console = _HungUp(signum)
    with pytest.raises(SystemExit):
        run_demo(rate=2.0, workdir=None, config=None, open_console=console)
    assert console.workdir is not None and not console.workdir.exists()
    assert _simulators() == []
    assert signal.getsignal(signum) == before  # put back for whatever runs next
