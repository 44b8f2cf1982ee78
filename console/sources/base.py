"""What every source hands to the store: records, rejected lines and resume positions."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.records import RequestRecord


@dataclass(frozen=True, slots=True)
class FilePosition:
    """Where reading of one file stands: the end of its last complete line.

    Saved in the same transaction as the rows read before it, so a restart resumes
    exactly there: nothing read twice, nothing skipped.
    """

    path: str
    inode: int
    offset: int
    line_no: int


@dataclass(frozen=True, slots=True)
class RejectedLine:
    path: str
    line_no: int
    reason: str
    excerpt: str


@dataclass(slots=True)
class SourceBatch:
    """Everything read in one pass over the sources."""

    records: list[RequestRecord] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)
    positions: dict[str, FilePosition] = field(default_factory=dict)
    lines_read: int = 0
    # Logfire stream openings now waiting for their end, (source, record, first read at: wall
    # clock), and those no longer waiting, (source, request_id): written with the batch
    # (console/store/stream_openings.py), so an opening is kept once, as a request or waiting.
    held: list[tuple[str, RequestRecord, float]] = field(default_factory=list)
    released: list[tuple[str, str]] = field(default_factory=list)
    # JSONL lines read but not parsed here, (path, first line number, lines): the live console
    # behind a firehose has them decoded and written by its decoding process
    # (console/live/decode_process.py), which hands back the rejected lines and, as `columns`,
    # the stored rows' analytics columns (console.analytics.columns.Columns) instead of records.
    raw: list[tuple[str, int, list[bytes]]] = field(default_factory=list)
    columns: object | None = None

    def __bool__(self) -> bool:
        # (lines_read: what was read may add nothing, e.g. an export sent again, yet be answered)
        return bool(self.records or self.rejected or self.positions or self.held or self.released or self.lines_read)
