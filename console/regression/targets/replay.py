"""A replay target: recorded outputs from a JSONL file, for offline and CI runs.

One object a line: ``{"id": CASE_ID, "output": "...", "latency_ms"?, "cost_usd"?, "tokens"?}``
(``case_id`` is accepted for ``id``; ``{"id": ..., "error": "..."}`` replays an error). A case
recorded several times answers attempt n with its n-th recording, cycling. A case with no
recording is errored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from console.cases.format import RegressionCase
from console.regression.results import TargetOutput
from console.regression.targets.base import TargetConfigError, TargetError, output_from


class ReplayTarget:
    def __init__(self, name: str, path: str | Path) -> None:
        self.name = name
        self.path = Path(path)
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise TargetConfigError(f"target {name!r}: cannot read {self.path}: {exc.strerror or exc}") from None
        self.recorded: dict[str, list[TargetOutput | str]] = {}
        decode = msgspec.json.Decoder().decode
        for line_no, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                reply = decode(line)
                case_id = reply.get("id", reply.get("case_id")) if isinstance(reply, dict) else None
                if not isinstance(case_id, str):
                    raise ValueError("no string 'id'")
                recording: TargetOutput | str = (
                    str(reply["error"]) if "error" in reply and "output" not in reply else output_from(reply)
                )
            except (msgspec.DecodeError, ValueError, TargetError) as exc:
                raise TargetConfigError(f"{self.path}:{line_no}: not a recorded output: {exc}") from None
            self.recorded.setdefault(case_id, []).append(recording)

    async def run(self, payload: dict[str, Any], case: RegressionCase) -> TargetOutput:
        recordings = self.recorded.get(case.id)
        if not recordings:
            raise TargetError(f"no recorded output for case {case.id!r} in {self.path}", retryable=False)
        attempt = payload.get("context", {}).get("attempt", 1)
        recording = recordings[(attempt - 1) % len(recordings)]
        if isinstance(recording, str):
            raise TargetError(f"recorded error: {recording}", retryable=False)
        return recording

    async def aclose(self) -> None:
        return None
