"""Where the demo's files live: the bundled sample logs plus a live log the simulator writes."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

SAMPLE_LOGS = Path(__file__).resolve().parents[2] / "sample_logs"


@dataclass
class DemoPlan:
    workdir: Path
    live_log: Path
    history: list[Path]
    store_url: str


def plan_demo(workdir: Path | None = None) -> DemoPlan:
    """Lay out a demo: a fresh working directory, a live log, and history to start with.

    From a checkout the committed sample_logs/ are tailed as they are; an installed wheel
    has no sample_logs/, so the same seeded history is generated into the work directory.
    """
    workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="llmops-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    history = sorted(SAMPLE_LOGS.glob("*.jsonl")) if SAMPLE_LOGS.is_dir() else []
    if not history:
        history = [_write_history(workdir / "history.jsonl")]
    return DemoPlan(
        workdir=workdir,
        live_log=workdir / "live.jsonl",
        history=history,
        store_url=f"sqlite:///{workdir / 'console.db'}",
    )


def _write_history(path: Path) -> Path:
    import json

    from console.demo.story import generate_history

    if not path.exists():
        with path.open("w", encoding="utf-8") as out:
            for record in generate_history():
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def start_simulator(plan: DemoPlan, rate: float) -> threading.Event:
    """Start the simulated app appending to the live log; set the returned event to stop it."""
    from console.demo.story import simulate

    stop = threading.Event()
    thread = threading.Thread(
        target=simulate, args=(plan.live_log,), kwargs={"rate": rate, "stop": stop},
        name="demo-simulator", daemon=True,
    )  # fmt: skip
    thread.start()
    return stop
