"""`labels export`: labels with their requests as JSONL or CSV, for tickets and notebooks.

CSV cells that a spreadsheet would run as a formula (starting with = + - @, or a tab or
carriage return) are prefixed with a single quote, and terminal control sequences are
stripped from them (a CSV printed to a terminal cannot drive it): model output is untrusted
text. JSONL keeps every value, with C1 controls written as JSON escapes.
"""

from __future__ import annotations

import csv
from typing import IO, Iterable

import orjson

from console.formatting import rfc3339
from console.sanitize import json_for_terminal, strip_control

FIELDS = (
    "request_id", "verdict", "reason", "note", "author", "labelled_at", "active", "case_id",
    "ts", "model", "prompt_id", "prompt_version", "status", "output",
)  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _exported_time(epoch: float | None) -> str | None:
    """Always with milliseconds, so every row of an export has the same shape (ts is None for
    a label whose request is not in the store)."""
    return None if epoch is None else rfc3339(epoch, timespec="milliseconds")


def export_record(row: dict) -> dict:
    """A store row (EvaluationStore.export_rows) in the exported shape."""
    return {
        "request_id": row["request_id"],
        "verdict": row["verdict"],
        "reason": row["reason"],
        "note": row["note"],
        "author": row["author"],
        "labelled_at": _exported_time(row["created_at"]),
        "active": bool(row["active"]),
        "case_id": row["case_id"],
        "ts": _exported_time(row["ts"]),
        "model": row["model"],
        "prompt_id": row["prompt_id"],
        "prompt_version": row["prompt_version"],
        "status": row["status"],
        "output": row["output"],
    }


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else strip_control(str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def write_jsonl(rows: Iterable[dict], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json_for_terminal(orjson.dumps(export_record(row)).decode()) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    count = 0
    for row in rows:
        record = export_record(row)
        writer.writerow([safe_cell(record[name]) for name in FIELDS])
        count += 1
    return count
