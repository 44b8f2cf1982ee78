"""A command target: argv without a shell, the case as JSON on stdin, the answer on stdout.

The child starts its own session (and so its own process group); when the call times out or
the run is cancelled the whole group is killed, children included, and after a normal exit
any stragglers left in the group are killed too, so a case never leaves processes behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import msgspec

from console.regression.case_format import RegressionCase
from console.regression.results import TargetOutput
from console.regression.targets.base import TargetConfigError, TargetError, parse_stdout

STDERR_SHOWN = 400  # characters of stderr quoted when a command fails


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class CommandTarget:
    def __init__(self, name: str, argv: list[str], *, cwd: str | Path | None = None, env: dict[str, str] | None = None) -> None:
        if not argv:
            raise TargetConfigError(f"target {name!r}: argv is empty")
        self.name = name
        self.argv = [str(a) for a in argv]
        self.cwd = str(cwd) if cwd is not None else None
        if self.cwd is not None and not Path(self.cwd).is_dir():
            raise TargetConfigError(f"target {name!r}: cwd {self.cwd} is not a directory")
        self.env = {**os.environ, **env} if env else None
        self._encode = msgspec.json.Encoder().encode

    async def run(self, payload: dict[str, Any], case: RegressionCase) -> TargetOutput:
        started = time.perf_counter()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
            )
        except OSError as exc:
            raise TargetError(f"cannot start {self.argv[0]}: {exc.strerror or exc}", retryable=False) from None
        try:
            stdout, stderr = await proc.communicate(self._encode(payload) + b"\n")
        except BaseException:  # timeout or stop: the call is abandoned, so is the process group
            kill_group(proc.pid)
            await asyncio.shield(proc.wait())
            raise
        finally:
            kill_group(proc.pid)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if proc.returncode != 0:
            tail = stderr.decode("utf-8", errors="replace").strip()[-STDERR_SHOWN:]
            how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exited with {proc.returncode}"
            raise TargetError(f"{self.argv[0]} {how}" + (f": {tail}" if tail else ""))
        out = parse_stdout(stdout)
        if out.latency_ms is None:
            out = TargetOutput(out.output, elapsed_ms, out.cost_usd, out.tokens, out.raw)
        return out

    async def aclose(self) -> None:
        return None
