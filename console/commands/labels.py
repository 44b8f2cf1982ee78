"""`llmops-console labels export`: the triage queue's labels with their requests, as JSONL
or CSV (console.evaluation.export writes the rows; CSV cells are neutralised there)."""

from __future__ import annotations

import sys
from pathlib import Path

from console.commands.errors import UsageError
from console.commands.store_access import open_store
from console.evaluation.export import write_csv, write_jsonl
from console.store.evaluation import EvaluationStore


def export_labels(*, verdict: str | None, fmt: str, history: bool, output: Path | None, store: str | None) -> None:
    """verdict is None, 'bad' or 'good' and fmt 'jsonl' or 'csv' (the CLI checked them)."""
    # a mistyped --store is an error, not a new empty store whose empty export reads as 'no labels'
    opened = open_store(store, missing_hint="load logs first: llmops-console ingest FILES, then label them in the console (t)")
    try:
        rows = EvaluationStore(opened).export_rows(verdict=verdict, history=history)
        write = write_csv if fmt == "csv" else write_jsonl
        if output is None:
            write(rows, sys.stdout)
            return
        try:
            handle = output.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(
                f"--output {output}: cannot write there ({exc.strerror or exc}); expected a file path in a directory that exists"
            ) from None
        with handle:
            write(rows, handle)
    finally:
        opened.close()
