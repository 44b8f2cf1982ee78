"""A command target: argv without a shell, the case as JSON on stdin, the answer on stdout.

The child starts its own session (and so its own process group); when the call times out or
the run is cancelled the whole group is killed, children included, and after a normal exit
any stragglers left in the group are killed too, so a case never leaves processes behind.

The child's environment is minimal: only PATH, HOME, LANG, LC_*, TMPDIR and TZ are inherited
from the console (no API keys or other secrets), plus the target's configured ``env``. Its
stdout is capped (`MAX_OUTPUT_BYTES`): past the cap the group is killed and the case errored.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import msgspec

from console.cases.format import RegressionCase
from console.regression.results import TargetOutput
from console.regression.targets.base import TargetConfigError, TargetError, parse_stdout

STDERR_SHOWN = 400  # characters of stderr quoted when a command fails
STDERR_KEPT = 64 * 1024  # bytes of stderr kept (the tail); the rest is read and dropped
MAX_OUTPUT_BYTES = 1024 * 1024  # stdout past this: the process group is killed, the case errored
INHERITED_ENV = ("PATH", "HOME", "LANG", "TMPDIR", "TZ")  # plus every LC_* variable


def minimal_env(configured: dict[str, str] | None = None, parent: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a command target runs with: the locale and paths it needs from the
    console's environment, nothing else (no secrets), then the configured variables."""
    parent = dict(os.environ) if parent is None else parent
    env = {k: v for k, v in parent.items() if k in INHERITED_ENV or k.startswith("LC_")}
    env.update(configured or {})
    return env


class OutputTooLarge(Exception):
    pass


async def _feed(stdin: asyncio.StreamWriter | None, data: bytes) -> None:
    if stdin is None:
        return
    try:
        stdin.write(data)
        await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):  # the child did not read its input
        pass
    finally:
        try:
            stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass


async def _read_capped(stream: asyncio.StreamReader | None, cap: int) -> bytes:
    """All of `stream`, or OutputTooLarge as soon as it passes `cap` bytes."""
    if stream is None:
        return b""
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(64 * 1024):
        size += len(chunk)
        if size > cap:
            raise OutputTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_tail(stream: asyncio.StreamReader | None, keep: int) -> bytes:
    """`stream` to its end, keeping only its last `keep` bytes."""
    if stream is None:
        return b""
    tail = b""
    while chunk := await stream.read(64 * 1024):
        tail = (tail + chunk)[-keep:]
    return tail


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class CommandTarget:
    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        cwd: str | Path | None = None,
        env: dict[str, str] | None = None,
        max_output_bytes: int = MAX_OUTPUT_BYTES,
    ) -> None:
        if not argv:
            raise TargetConfigError(f"target {name!r}: argv is empty")
        self.name = name
        self.argv = [str(a) for a in argv]
        self.cwd = str(cwd) if cwd is not None else None
        if self.cwd is not None and not Path(self.cwd).is_dir():
            raise TargetConfigError(f"target {name!r}: cwd {self.cwd} is not a directory")
        self.env = minimal_env(env)
        self.max_output_bytes = max_output_bytes
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
        feed = asyncio.ensure_future(_feed(proc.stdin, self._encode(payload) + b"\n"))
        errors = asyncio.ensure_future(_read_tail(proc.stderr, STDERR_KEPT))
        try:
            try:
                stdout = await _read_capped(proc.stdout, self.max_output_bytes)
            except OutputTooLarge:
                kill_group(proc.pid)
                raise TargetError(
                    f"{self.argv[0]} wrote more than {self.max_output_bytes} bytes on stdout: killed",
                    retryable=False,
                ) from None
            stderr = await errors
            await feed
            await proc.wait()
        except BaseException:  # timeout, stop or too much output: the process group goes too
            kill_group(proc.pid)
            for task in (feed, errors):
                task.cancel()
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
