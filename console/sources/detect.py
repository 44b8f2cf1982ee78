"""Which format a log file is in, and the tail that reads each file in its own format.

Two formats, both one JSON object a line: schema v1 request records ("jsonl") and the
OpenTelemetry Collector file exporter's TracesData ("otlp"). With format "auto" each file's
format is decided by its first line read (a TracesData object has resourceSpans); a line
of the other format found later is still read as what it is, so mixed files work.
``--format jsonl|otlp`` forces one format for every file.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec

from console.records import MAX_LINE_BYTES, RecordError, parse_line
from console.sources.base import FilePosition, SourceBatch
from console.sources.jsonl import JsonlTail
from console.sources.otel.logfire import StreamJoiner
from console.sources.otlp import DEFAULT_OPTIONS, NotTracesData, OtlpOptions, parse_traces_line

FORMATS = ("auto", "jsonl", "otlp")
# How long a followed file's Logfire stream opening waits for its end before it is stored alone.
STREAM_WAIT_S = 60.0
_OTLP_KEYS = (b'"resourceSpans"', b'"resource_spans"')
_OTLP_START = re.compile(rb'\s*\{\s*"resource(?:Spans|_spans)"\s*:')


def looks_like_otlp(line: bytes) -> bool:
    """True for a TracesData line; cheap: its first key is resourceSpans in every exporter seen."""
    if _OTLP_START.match(line):
        return True
    if not line.lstrip().startswith(b"{") or not any(key in line for key in _OTLP_KEYS):
        return False
    try:  # the key is further in: decode to be sure it is a top-level key
        value = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return False
    return isinstance(value, dict) and ("resourceSpans" in value or "resource_spans" in value)


def detect_format(line: bytes | str) -> str:
    """'otlp' or 'jsonl' for one line of a log."""
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogatepass")
    return "otlp" if looks_like_otlp(line) else "jsonl"


def detect_file_format(path: str | Path) -> str | None:
    """The format of a file by its first non-blank line; None when it has none yet."""
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                return detect_format(line[:MAX_LINE_BYTES])
    return None


def check_format(source_format: str) -> str:
    if source_format not in FORMATS:
        raise ValueError(f"unknown format {source_format!r}: use one of {', '.join(FORMATS)}")
    return source_format


class LogTail(JsonlTail):
    """JsonlTail that reads each file as schema v1 records or as OTLP TracesData lines.

    Spans that are not GenAI model calls are skipped and counted in ``spans_skipped``.
    Each file has a StreamJoiner: a Logfire stream's halves are joined across lines. An
    opening still waiting when its file is read to the end is stored alone: at once in a
    one-shot read (watch=False), after STREAM_WAIT_S when following.
    """

    def __init__(
        self,
        patterns: Sequence[str | Path],
        positions: Mapping[str, FilePosition] | None = None,
        *,
        source_format: str = "auto",
        otlp_options: OtlpOptions = DEFAULT_OPTIONS,
        **kwargs,
    ) -> None:
        self.source_format = check_format(source_format)
        self.otlp_options = otlp_options
        self._formats: dict[tuple[str, int], str] = {}
        self.spans_skipped: dict[str, int] = {}
        self._joiners: dict[str, StreamJoiner] = {}
        super().__init__(patterns, positions, **kwargs)

    def format_of(self, path: str) -> str | None:
        """The format a followed file is read in ('jsonl' or 'otlp'), None before its first line."""
        path = os.path.abspath(path)
        for (known, _inode), fmt in self._formats.items():
            if known == path:
                return fmt
        return None

    @property
    def total_spans_skipped(self) -> int:
        return sum(self.spans_skipped.values())

    # -- the JsonlTail hooks -----------------------------------------------------------------

    def _parse_lines(self, t, lines: list[bytes], first_no: int, batch: SourceBatch) -> None:
        if self._file_format(t, lines) == "jsonl":
            super()._parse_lines(t, lines, first_no, batch)
            return
        for line_no, line in enumerate(lines, first_no):
            self._parse_otlp(t, line_no, line, batch)

    def _report(self, t, batch: SourceBatch) -> None:
        joiner = self._joiners.get(t.path)
        if joiner is not None and joiner.pending and _drained(t):
            batch.records.extend(joiner.flush(time.time() - STREAM_WAIT_S if self._watch else None))
        super()._report(t, batch)

    def _bad_line(self, t, line_no: int, line: bytes, exc: Exception, batch: SourceBatch) -> None:
        """A line that failed as a v1 record may be a TracesData line in a mixed file."""
        if self.source_format == "auto" and isinstance(exc, RecordError) and looks_like_otlp(line):
            # JsonlTail._parse_lines counts the records this adds as good lines
            self._parse_otlp(t, line_no, line, batch, count_ok=False)
            return
        super()._bad_line(t, line_no, line, exc, batch)

    # -- OTLP lines ----------------------------------------------------------------------------

    def _file_format(self, t, lines: list[bytes]) -> str:
        if self.source_format != "auto":
            return self.source_format
        key = (t.path, t.reader.inode if t.reader is not None else 0)
        fmt = self._formats.get(key)
        if fmt is None:
            first = next((line for line in lines if line.strip()), None)
            if first is None:
                return "jsonl"
            fmt = self._formats[key] = detect_format(first)
        return fmt

    def _parse_otlp(self, t, line_no: int, line: bytes, batch: SourceBatch, count_ok: bool = True) -> None:
        if line[-1:] == b"\r":
            line = line[:-1]
        if not line.strip():
            return
        try:
            joiner = self._joiners.get(t.path) or self._joiners.setdefault(t.path, StreamJoiner())
            parsed = parse_traces_line(line, self.otlp_options, joiner)
        except NotTracesData as exc:
            if self.source_format == "otlp":
                JsonlTail._bad_line(self, t, line_no, line, exc, batch)
                return
            try:  # a schema v1 record in a file that started with spans
                batch.records.append(parse_line(line))
            except Exception as record_exc:  # noqa: BLE001 - a bad line never stops the tail
                JsonlTail._bad_line(self, t, line_no, line, record_exc, batch)
                return
            t.lines_ok += count_ok
            return
        except Exception as exc:  # noqa: BLE001 - a bad line never stops the tail
            JsonlTail._bad_line(self, t, line_no, line, exc, batch)
            return
        batch.records.extend(parsed.records)
        if parsed.skipped:
            self.spans_skipped[t.path] = self.spans_skipped.get(t.path, 0) + parsed.skipped
        for reason in parsed.errors:
            self._reject(t, line_no, reason, line, batch)
        if not parsed.errors:
            t.lines_ok += count_ok


def _drained(t) -> bool:
    """Every complete line of the file has been handed out."""
    r = t.reader
    return r is None or (r.idx >= len(r.lines) and r.read_pos >= t.size)
