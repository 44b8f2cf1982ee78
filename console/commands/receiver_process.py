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
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Callable

from console.commands.errors import UsageError
from console.live.otlp_receiver import is_loopback

CHILD_ARGS_ENV = "LLMOPS_RECEIVER_CHILD"
_BANNER = re.compile(r"^receiving OTLP/HTTP on (\S+)/v1/traces ")


class ReceiverProcess:
    """The receiver in a child process, bound when the constructor returns (UsageError with
    the child's reason when it cannot bind or open the store: a taken port is an error line
    before the screen opens). `endpoint` and `lines` are what `receive` printed (where apps
    send, the token when one was generated); on_stop(tell) hears if the child dies; close()
    stops it (stdin closed, then SIGTERM, then SIGKILL) once its exports are answered."""

    def __init__(self, host: str, port: int, token: str | None, store_url: str, config: Path | None) -> None:
        args = {"host": host, "port": port, "token": token, "store": store_url, "config": None if config is None else str(config)}
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
        _drain(self._process.stdout, None)  # its line per commit, until it stops
        self._process.wait()
        self._tell_stop()

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


def _child_main() -> int:
    """`python -m console.commands.receiver_process`, its arguments in CHILD_ARGS_ENV."""
    from console.commands.config_access import load_config
    from console.commands.receive import run_receive

    args = json.loads(os.environ.pop(CHILD_ARGS_ENV))
    threading.Thread(target=_stop_at_eof, daemon=True).start()
    try:
        settings = load_config(None if args["config"] is None else Path(args["config"]), warn=False)
        run_receive(host=args["host"], port=args["port"], token=args["token"], store=args["store"], settings=settings)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
