"""The console's OTLP receiver (`--otlp`) in a child process: `receive`'s receiver, inbox and
writer (console.commands.receive.run_receive), writing to the console's store.

In the console's own process, the receiver's threads decoded, mapped and wrote every span on
the GIL the event loop needs: at 2,000 spans/s that was ~40 us of decoding and mapping and
~40 us of writing a span (bench/otlp.py), and the loop lag followed. In a child they use
their own GIL (and the other core); the console follows the store for the rows
(console.live.ingest_thread), which is what it does for a team's store anyway. Every answer
the receiver gives is the same (200 once committed, 503 with Retry-After, 400 with the
reason, the token off loopback): it is the same code.

The child is started with its arguments in its environment (a token or a store password is
never on a command line `ps` shows), in a session of its own (the terminal's Ctrl+C is the
console's), and stops when its stdin closes: when the console closes it, or dies.

After `receive`'s lines, the child reports its state on stdout as JSON lines (ChildState):
its store trouble (the store refusing a batch: locked, disk full, PostgreSQL down; the apps
hear 503 meanwhile) at once when it starts and when it ends, and its counts (exports
answered 503 or refused, spans rejected, rows added) when they changed, at most every
STATE_EVERY_S. The console posts each as a ReceiverState for the header.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable

from console.commands.errors import UsageError
from console.live.events import ReceiverState
from console.live.otlp_receiver import is_loopback

CHILD_ARGS_ENV = "LLMOPS_RECEIVER_CHILD"
STATE_EVERY_S = 0.5  # the child's counts, when they changed, at most this often
_BANNER = re.compile(r"^receiving OTLP/HTTP on (\S+)/v1/traces ")


class ReceiverProcess:
    """The receiver in a child process, bound when the constructor returns (UsageError with
    the child's reason when it cannot bind or open the store: a taken port is an error line
    before the screen opens). `endpoint` and `lines` are what `receive` printed (where apps
    send, the token when one was generated); on_stop(tell) hears if the child dies; close()
    stops it (stdin closed, then SIGTERM, then SIGKILL) once its exports are answered."""

    def __init__(self, host: str, port: int, token: str | None, store_url: str, config: Path | None,
                 tuning: dict | None = None) -> None:  # fmt: skip
        """tuning: run_receive's lock_wait_s and ack_wait_s (tests shorten them)."""
        args = {"host": host, "port": port, "token": token, "store": store_url, "config": None if config is None else str(config),
                **(tuning or {})}  # fmt: skip
        self._process = subprocess.Popen(
            [sys.executable, "-m", "console.commands.receiver_process"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            env={**os.environ, CHILD_ARGS_ENV: json.dumps(args), "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self._errors: deque[str] = deque(maxlen=20)  # the child's last stderr lines, for a failure's reason
        threading.Thread(target=_drain, args=(self._process.stderr, self._errors), daemon=True).start()
        banner = _BANNER.match(self._process.stdout.readline().decode("utf-8", "replace"))
        if banner is None:
            self._process.kill()
            self._process.wait()
            raise UsageError(self.failure() or f"the OTLP receiver could not start (exit {self._process.returncode})")
        self.endpoint = banner.group(1)
        told = 3 if token is None and not is_loopback(host.strip("[]")) else 1  # commands.receive.receiver_lines
        self.lines = [self._process.stdout.readline().decode("utf-8", "replace").rstrip("\n") for _ in range(told)]
        self._closing = self._told = False
        self._on_stop: Callable[[str], object] | None = None
        self.state = ReceiverState(None)  # the child's last report
        self._on_state: Callable[[ReceiverState], object] | None = None
        self._lock = threading.Lock()
        threading.Thread(target=self._watch, daemon=True).start()

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def failure(self) -> str:
        """Why the child stopped (its `error: ...` line, else its last), or ""."""
        lines = [line for line in self._errors if line.strip()]
        said = next((line for line in reversed(lines) if line.startswith("error: ")), lines[-1] if lines else "")
        return said.removeprefix("error: ")

    def on_stop(self, tell: Callable[[str], object]) -> None:
        """tell(why) once, on a thread of the receiver's, if the child stops before close()."""
        self._on_stop = tell
        if not self.running:
            self._tell_stop()

    def on_state(self, tell: Callable[[ReceiverState], object]) -> None:
        """tell(state) on a thread of the receiver's at each report of the child (its store
        trouble, its counts), and at once with the last one."""
        self._on_state = tell
        tell(self.state)

    def close(self, timeout_s: float = 15.0) -> None:
        self._closing = True
        try:
            self._process.stdin.close()  # the child stops at EOF
        except OSError:
            pass
        try:
            self._process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _watch(self) -> None:
        for line in self._process.stdout:  # its state reports (and `receive`'s line per commit), until it stops
            if line.startswith(b"{"):
                self._take_state(line)
        self._process.wait()
        self._tell_stop()

    def _take_state(self, line: bytes) -> None:
        try:
            said = json.loads(line)
            state = ReceiverState(said["trouble"], *(int(said[key]) for key in ("busy", "refused", "rejected", "added")))
        except (ValueError, KeyError, TypeError):
            return  # not a report (a line of `receive`'s cut by another)
        self.state = state
        if self._on_state is not None:
            self._on_state(state)

    def _tell_stop(self) -> None:
        with self._lock:
            if self._closing or self._on_stop is None or self._told:
                return
            self._told = True
        why = self.failure()
        self._on_stop(f"the OTLP receiver stopped (exit {self._process.returncode}){': ' + why if why else ''}; "
                      "restart the console to receive again")  # fmt: skip


def _drain(stream, keep: deque | None) -> None:
    for line in stream:
        if keep is not None:
            keep.append(line.decode("utf-8", "replace").rstrip())


def _stop_at_eof() -> None:
    """stdin closed (the console closed it, or died): stop as SIGTERM stops `receive`."""
    sys.stdin.buffer.read()
    os.kill(os.getpid(), signal.SIGTERM)


class ChildState:
    """The child's side of the reports: one JSON line on stdout for each change of its store
    trouble (from the writing thread, at once), and its counts every STATE_EVERY_S when they
    changed (from a thread of its own: while a write is retried the writing thread waits)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trouble: str | None = None
        self._counts = None  # () -> (busy, refused, rejected, added), once serving
        self._said: dict | None = None

    def trouble(self, reason: str | None) -> None:
        with self._lock:
            self._trouble = reason
            self._say()

    def started(self, receiver, inbox, totals) -> None:
        self._counts = lambda: (receiver.busy, receiver.refused, totals.rejected, totals.added)
        threading.Thread(target=self._every, name="receiver-state", daemon=True).start()

    def _every(self) -> None:
        while True:
            with self._lock:
                self._say()
            time.sleep(STATE_EVERY_S)

    def _say(self) -> None:
        busy, refused, rejected, added = self._counts() if self._counts is not None else (0, 0, 0, 0)
        state = {"trouble": self._trouble, "busy": busy, "refused": refused, "rejected": rejected, "added": added}
        if state != self._said:
            sys.stdout.write(json.dumps(state) + "\n")  # one write: `receive`'s lines are whole lines too
            sys.stdout.flush()
            self._said = state


def _child_main() -> int:
    """`python -m console.commands.receiver_process`, its arguments in CHILD_ARGS_ENV."""
    from console.commands.config_access import load_config
    from console.commands.receive import run_receive
    from console.live.otlp_receiver import ACK_WAIT_S
    from console.store import LockRetry

    args = json.loads(os.environ.pop(CHILD_ARGS_ENV))
    threading.Thread(target=_stop_at_eof, daemon=True).start()
    state = ChildState()
    lock_wait_s = args.get("lock_wait_s")
    try:
        settings = load_config(None if args["config"] is None else Path(args["config"]), warn=False)
        run_receive(host=args["host"], port=args["port"], token=args["token"], store=args["store"], settings=settings,
                    on_trouble=state.trouble, started=state.started, ack_wait_s=args.get("ack_wait_s", ACK_WAIT_S),
                    lock_retry=None if lock_wait_s is None else LockRetry(timeout_s=lock_wait_s, retries=0))  # fmt: skip
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
