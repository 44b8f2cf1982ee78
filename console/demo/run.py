"""The demo's files: the sample story moved to the present, recent traffic, a live log, a config.

The committed sample_logs/ end on 2026-11-20; a console opened later would find them
outside every window. So the demo copies them with their timestamps shifted to end half
an hour ago, backfills the last half hour with the live story, and then the simulator
appends in real time. Every file lives in the work directory the caller gives (the demo
command's temporary one, removed when it ends, or --workdir); the repository's sample_logs/
are never modified.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from console.formatting import rfc3339
from console.records import EPOCH_MS_THRESHOLD, ts_datetime
from console.store.locations import DEFAULT_STORE_PATH

# The wheel carries the sample logs inside the package (pyproject's force-include); a
# checkout, or an editable install, reads the repository's sample_logs/ itself.
SAMPLE_LOG_DIRS = (
    Path(__file__).resolve().parent / "sample_logs",
    Path(__file__).resolve().parents[2] / "sample_logs",
)
BACKFILL = timedelta(minutes=30)  # ten 3-minute story loops: the live simulator starts at phase 0

# The demo replays a day's incidents every 3 minutes, so its burn windows are compressed
# the same way; real deployments keep the SRE defaults (see the README).
DEMO_CONFIG = """\
# Written by `llmops-console demo`. The simulated app replays its incidents every 3 minutes,
# so the burn-rate windows below are compressed; see the README for real-world defaults.
[[budgets]]
name = "support-chat"
period = "month"
amount_usd = 36000

[[budgets]]
name = "claude-sonnet daily"
period = "day"
amount_usd = 9000
model = "claude-sonnet-4-5"

[burn]
page = {threshold = 14.4, long = "15m", short = "1m"}
warn = {threshold = 6.0, long = "30m", short = "5m"}

[[slos]]
model = "claude-sonnet-4-5"
percentile = 95
max_ms = 9000

[[slos]]
percentile = 95
max_ms = 12000
"""


DEMO_EVALUATION = """
[evaluation]
json_prompts = ["ticket-classifier"]   # its outputs must be valid JSON
"""

DEMO_PROMPTS = """
[prompts]                   # the demo's prompt registry (p in the console): v8 adds one policy line to v7
path = "prompts"
"""
# Cases the on-call engineer already marked bad in triage: v8's refusals and cut-off answers.
DEMO_CASES_PER_DEFECT = 4


@dataclass
class DemoPlan:
    workdir: Path
    live_log: Path
    history: list[Path]
    store_url: str
    config: Path


def plan_demo(workdir: Path, rate: float = 20.0, now: datetime | None = None) -> DemoPlan:
    """Lay out a demo in `workdir` (made if missing; its removal is the caller's)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(timezone.utc)
    history = _shifted_history(workdir / "history", now - BACKFILL)
    history.append(_backfill(workdir / "recent.jsonl", now, rate))
    config = workdir / "llmops.toml"
    if not config.exists():
        from console.demo.target import DEMO_REGRESSION_TOML

        config.write_text(DEMO_CONFIG + DEMO_EVALUATION + DEMO_REGRESSION_TOML + DEMO_PROMPTS, encoding="utf-8")
    write_registry(workdir / "prompts")
    write_cases(workdir / "regression" / "cases.jsonl", history)
    return DemoPlan(
        workdir=workdir,
        live_log=workdir / "live.jsonl",
        history=history,
        # where every command run in workdir looks by default (regress, labels export, report)
        store_url=f"sqlite:///{workdir / DEFAULT_STORE_PATH}",
        config=config,
    )


def registry_files() -> dict[str, str]:
    """The demo's prompt registry: relative path -> text (console.demo.texts holds the prompts)."""
    from console.demo import texts

    files: dict[str, str] = {}
    for (prompt_id, version), text in texts.PROMPT_TEMPLATES.items():
        settings = texts.PROMPT_SETTINGS.get((prompt_id, version), {})
        head = "".join(f"{key}: {value}\n" for key, value in settings.items())
        files[f"{prompt_id}/{version}.md"] = (f"---\n{head}---\n" if head else "") + text + "\n"
    for prompt_id, labels in texts.PROMPT_LABELS.items():
        lines = "".join(f'{label} = "{version}"\n' for label, version in labels.items())
        files[f"{prompt_id}/labels.toml"] = "# Which version runs where.\n" + lines
    return files


def write_registry(root: Path) -> None:
    """prompts/<id>/<version>.md and labels.toml; a file that exists is left as it is."""
    for name, text in registry_files().items():
        path = root / name
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def write_cases(path: Path, history: list[Path]) -> None:
    """The regression suite, as triage grows it: cases from v8's bad production responses.

    Refusals and cut-off answers (console.demo.target.is_defect), the first few of each in
    the history, each asserting the response is not repeated. v8 fails them, v7 and v9 pass.
    """
    if path.exists():
        return
    from console.demo import texts
    from console.demo.target import is_defect
    from console.evaluation.regression_set import case_from_record
    from console.records import RecordError, parse_line
    from console.cases.format import case_to_json

    wanted = {"refusal": DEMO_CASES_PER_DEFECT, "truncated": DEMO_CASES_PER_DEFECT}
    lines: list[bytes] = []
    for source in history:
        if "malformed" in source.name:
            continue
        with source.open("rb") as handle:
            for line in handle:
                if b'"support-answer"' not in line or b'"v8"' not in line:
                    continue
                try:
                    record = parse_line(line)
                except (RecordError, ValueError):
                    continue
                output = record.output if isinstance(record.output, str) else None
                if record.prompt_version != "v8" or record.environment or not is_defect(output):
                    continue
                reason = "refusal" if output in texts.REFUSALS else "truncated"
                if wanted[reason] > 0:
                    wanted[reason] -= 1
                    case = case_from_record(record, reason=reason, who="on-call", when=float(record.ts))
                    lines.append(case_to_json(case))
                if not any(wanted.values()):
                    break
        if not any(wanted.values()):
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(line + b"\n" for line in lines))


class DemoDataMissing(Exception):
    """The installed package lacks the sample logs: a broken build, not something to paper over."""


def sample_logs() -> list[Path]:
    """The bundled sample logs (the README's four days of history with its incident story)."""
    for directory in SAMPLE_LOG_DIRS:
        found = sorted(directory.glob("*.jsonl"))
        if found:
            return found
    raise DemoDataMissing(
        "the demo's sample logs are missing from this installation (looked in "
        + ", ".join(str(d) for d in SAMPLE_LOG_DIRS)
        + "); reinstall llmops-console"
    )


def _shifted_history(directory: Path, end: datetime) -> list[Path]:
    """The sample logs, their timestamps moved so that they end at `end`."""
    directory.mkdir(parents=True, exist_ok=True)
    # read (and so stored, and listed by the requests table) oldest file first, the hostile
    # sample last: in name order its few lines of today came before four days of history
    ends = {path: _last_ts(path) for path in sample_logs() if "malformed" not in path.name}
    sources = sorted(ends, key=ends.__getitem__) + [path for path in sample_logs() if path not in ends]
    shift = end - max(ends.values())
    written = []
    for source in sources:
        target = directory / source.name
        if not target.exists():
            with source.open("rb") as lines, target.open("wb") as out:
                out.writelines(_shift_line(line, shift) for line in lines)
        written.append(target)
    return written


def _last_ts(path: Path) -> datetime:
    latest = datetime.min.replace(tzinfo=timezone.utc)
    with path.open("rb") as handle:
        for line in handle:
            try:
                latest = max(latest, ts_datetime(json.loads(line)["ts"]))
            except (ValueError, KeyError, TypeError):
                continue
    return latest


def _shifted_ts(value: Any, shift: timedelta) -> str | int | float:
    """A ts moved by shift, in its own form: RFC 3339 stays RFC 3339 (in UTC, milliseconds),
    an epoch number stays a number in its unit (the hostile sample shows both forms accepted).
    Read by the ingest's own reading (console.records.ts_datetime): a ts it rejects raises."""
    moment = ts_datetime(value) + shift
    if isinstance(value, str):
        return rfc3339(moment, timespec="milliseconds")
    seconds = moment.timestamp()
    if value > EPOCH_MS_THRESHOLD:
        return round(seconds * 1000)
    return round(seconds) if isinstance(value, int) else round(seconds, 3)


def _shift_line(line: bytes, shift: timedelta) -> bytes:
    """Move a record's ts; a malformed line is copied byte for byte, to be rejected as it is."""
    try:
        record = json.loads(line)
        record["ts"] = _shifted_ts(record["ts"], shift)
    except (ValueError, KeyError, TypeError):
        return line
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _backfill(path: Path, now: datetime, rate: float) -> Path:
    """The last half hour of the live story, as if the console had been closed meanwhile."""
    from console.demo.story import LiveStory, dumps

    if not path.exists():
        start = now - BACKFILL
        story = LiveStory(seed=12, start=start)
        count = int(BACKFILL.total_seconds() * rate)
        step = BACKFILL / max(count, 1)
        _write_lines(path, (dumps(story.next_record(start + step * i)) for i in range(count)))
    return path


def _write_lines(path: Path, lines) -> None:
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")


def start_simulator(plan: DemoPlan, rate: float) -> Callable[[], None]:
    """Start the simulated app appending to the live log; call the returned function to stop
    it (it returns once the simulator has closed the log: its directory can then go)."""
    from console.demo.story import simulate

    stop = threading.Event()
    thread = threading.Thread(
        target=simulate, args=(plan.live_log,), kwargs={"rate": rate, "stop": stop},
        name="demo-simulator", daemon=True,
    )  # fmt: skip
    thread.start()

    def stop_simulator() -> None:
        stop.set()
        thread.join()

    return stop_simulator
