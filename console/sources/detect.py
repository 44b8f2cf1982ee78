"""Which format a log file is in, and the tail that reads each file in its own format.

Two formats, both one JSON object a line: schema v1 request records ("jsonl") and the
OpenTelemetry Collector file exporter's TracesData ("otlp"). With format "auto" each file's
format is decided by its first line read (a TracesData object has resourceSpans); a line
of the other format found later is still read as what it is, so mixed files work.
``--format jsonl|otlp`` forces one format for every file.

Whatever the format asked for, two encodings are told by the first line (sources/pretty.py):
a pretty-printed file ("pretty") is read document by document, and a binary one ("binary":
the Collector's `format: proto`, a compressed file) is refused with one rejection that says
which setting to change, the rest of it skipped, rather than rejected line by line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec

from console.records import MAX_LINE_BYTES, RecordError, RequestRecord, parse_line
from console.sources.pretty import MAX_DOCUMENT_BYTES, Document, binary_reason, is_binary, is_pretty_start
from console.sources.base import FilePosition, SourceBatch
from console.sources.jsonl import JsonlTail
from console.sources.otel.logfire import STREAM_WAIT_S, StreamJoiner
from console.sources.otlp import DEFAULT_OPTIONS, NotTracesData, OtlpLine, OtlpOptions, parse_traces, parse_traces_line

FORMATS = ("auto", "jsonl", "otlp")
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


def classify(first_line: bytes, source_format: str = "auto") -> str:
    """How a file whose first non-blank line this is is read: 'binary' (refused), 'pretty'
    (documents over many lines), else the format asked for or, with 'auto', detected."""
    if is_binary(first_line):
        return "binary"
    if is_pretty_start(first_line):
        return "pretty"
    return detect_format(first_line) if source_format == "auto" else source_format


def detect_file_format(path: str | Path) -> str | None:
    """The format of a file by its first non-blank line ('jsonl', 'otlp', 'pretty' or
    'binary'); None when it has none yet."""
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                return classify(line[:MAX_LINE_BYTES].removesuffix(b"\n"))
    return None


def refused_file_reason(path: str | Path) -> str | None:
    """Why a file is refused whole (a binary file), read from its head alone; None when it is
    not. For a file read before: its saved offset skips the head, where the reason is."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).lstrip()
    except OSError:
        return None
    first = head.split(b"\n", 1)[0]
    return binary_reason(first, str(path)) if first and is_binary(first) else None


def check_format(source_format: str) -> str:
    if source_format not in FORMATS:
        raise ValueError(f"unknown format {source_format!r}: use one of {', '.join(FORMATS)}")
    return source_format


class LogTail(JsonlTail):
    """JsonlTail that reads each file as schema v1 records or as OTLP TracesData lines.

    Spans that are not GenAI model calls are skipped and counted in ``spans_skipped``.
    Each file has a StreamJoiner: a Logfire stream's halves are joined across lines. An
    opening waiting for its end goes into each batch's `held` (the store keeps it in
    stream_openings, with the batch's offsets), and is given back by `held=` when a tail
    starts again, so the file's offset never waits for it and a line is read once. Once the
    file is read to its end, an opening is stored alone when the file's later spans show it
    waited over STREAM_WAIT_S (a file read in one go), or, when following, once it waited
    that long since it was first read; a one-shot read (watch=False) otherwise leaves it
    waiting (streams_waiting): a later read of the completed file joins it.

    A pretty-printed document is read when its closing line arrives: the file's offset
    stays at its first line until then, so a restart reads the whole document again.
    """

    def __init__(
        self,
        patterns: Sequence[str | Path],
        positions: Mapping[str, FilePosition] | None = None,
        *,
        source_format: str = "auto",
        otlp_options: OtlpOptions | None = None,
        held: Mapping[str, list[tuple[RequestRecord, float]]] | None = None,
        **kwargs,
    ) -> None:
        """held: the stream openings the store kept waiting, per file
        (console.store.stream_openings.load_held)."""
        self.source_format = check_format(source_format)
        self.otlp_options = otlp_options or DEFAULT_OPTIONS  # llmops.toml's [otel], else the defaults
        self._formats: dict[tuple[str, int], str] = {}
        self.spans_skipped: dict[str, int] = {}
        self.refused: dict[str, str] = {}  # path -> why the whole file was refused (binary)
        self._joiners: dict[str, StreamJoiner] = {}
        self._documents: dict[str, Document] = {}
        # JSONL lines of files without a stream joiner left unparsed in batch.raw (the live
        # console behind a firehose: its decoding process parses them; parse_deferred here)
        self.defer_jsonl = False
        for path, openings in (held or {}).items():
            if os.path.isabs(path):  # a file's (the receiver's are "otlp:/v1/traces")
                self._joiners.setdefault(path, StreamJoiner()).restore(openings)
        super().__init__(patterns, positions, **kwargs)

    def read_available(self) -> SourceBatch:
        batch = super().read_available()
        self._take_stream_changes(batch)
        return batch

    def _take_stream_changes(self, batch: SourceBatch) -> None:
        for path, joiner in self._joiners.items():  # what waits now is kept with the batch's offsets
            held, released = joiner.take_changes()
            batch.held.extend((path, record, read_at) for record, read_at in held)
            batch.released.extend((path, request_id) for request_id in released)

    def parse_deferred(self, batch: SourceBatch) -> None:
        """Parse here the lines a batch left in batch.raw (defer_jsonl), as read_available
        would have: records, rejected lines, the files' counts, Logfire openings."""
        raw, batch.raw = batch.raw, []
        for path, first_no, lines in raw:
            JsonlTail._parse_lines(self, self._tracked[path], lines, first_no, batch)
        self._take_stream_changes(batch)

    @property
    def streams_waiting(self) -> int:
        """Logfire stream openings of the files read waiting for their end (kept in the store's
        stream_openings)."""
        return sum(len(joiner.pending) for path, joiner in self._joiners.items() if path in self._tracked)

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
        fmt = self._file_format(t, lines)
        if fmt == "jsonl":
            if self.defer_jsonl and t.path not in self._joiners:
                batch.raw.append((t.path, first_no, lines))
                return
            super()._parse_lines(t, lines, first_no, batch)
        elif fmt == "otlp":
            for line_no, line in enumerate(lines, first_no):
                self._parse_otlp(t, line_no, line, batch)
        elif fmt == "pretty":
            self._parse_pretty(t, lines, first_no, batch)
        elif fmt == "binary":
            first = next((line for line in lines if line.strip()), None)
            if first is not None:  # refused once, at the first line; the rest is skipped
                reason = binary_reason(first, t.path)
                self._reject(t, first_no, reason, b"", batch)
                self._formats[self._key(t)] = "binary, refused"
                self.refused[t.path] = reason

    def _report(self, t, batch: SourceBatch) -> None:
        """The file's position, held back to the first line of a pretty-printed document not
        closed yet (its lines are read again on restart); and, once the file is read to its
        end, the stream openings that waited long enough stored alone."""
        joiner = self._joiners.get(t.path)
        if joiner is not None and joiner.pending and _drained(t):
            batch.records.extend(joiner.flush_overdue(STREAM_WAIT_S))
            if self._watch:
                batch.records.extend(joiner.flush(STREAM_WAIT_S))
        r = t.reader
        if r is None:
            return
        current = (r.inode, r.offset, r.line_no)
        document = self._documents.get(t.path)
        if document is not None and document.open and document.inode == r.inode and document.first_offset < r.offset:
            current = (r.inode, document.first_offset, document.first_line_no - 1)
        if current != t.reported:
            batch.positions[t.path] = FilePosition(t.path, *current)
            t.reported = current

    def _bad_line(self, t, line_no: int, line: bytes, exc: Exception, batch: SourceBatch) -> None:
        """A line that failed as a v1 record may be a TracesData line in a mixed file."""
        if self.source_format == "auto" and isinstance(exc, RecordError) and looks_like_otlp(line):
            # JsonlTail._parse_lines counts the records this adds as good lines
            self._parse_otlp(t, line_no, line, batch, count_ok=False)
            return
        super()._bad_line(t, line_no, line, exc, batch)

    # -- OTLP lines ----------------------------------------------------------------------------

    @staticmethod
    def _key(t) -> tuple[str, int]:
        return (t.path, t.reader.inode if t.reader is not None else 0)

    def _file_format(self, t, lines: list[bytes]) -> str:
        key = self._key(t)
        fmt = self._formats.get(key)
        if fmt is None:
            first = next((line for line in lines if line.strip()), None)
            if first is None:
                return "jsonl" if self.source_format == "auto" else self.source_format
            fmt = self._formats[key] = classify(first, self.source_format)
        return fmt

    # -- pretty-printed documents --------------------------------------------------------------

    def _parse_pretty(self, t, lines: list[bytes], first_no: int, batch: SourceBatch) -> None:
        document = self._documents.get(t.path)
        if document is None or document.inode != t.reader.inode:
            document = self._documents[t.path] = Document(inode=t.reader.inode)
        offset = t.reader.offset  # where the chunk's first line starts (_consume adds the chunk after)
        for line_no, line in enumerate(lines, first_no):
            text = document.add(line_no, line.removesuffix(b"\r"), offset)
            offset += len(line) + 1
            if text is None:
                continue
            if document.too_big:
                document.too_big = False
                reason = f"a pretty-printed JSON document over {MAX_DOCUMENT_BYTES // 2**20} MiB"
                self._reject(t, document.first_line_no, reason, b"", batch)
            else:
                self._read_document(t, document.first_line_no, text, line_no - document.first_line_no + 1, batch)

    def _read_document(self, t, line_no: int, text: bytes, line_count: int, batch: SourceBatch) -> None:
        """A whole pretty-printed document: TracesData or v1 records, alone or in an array."""
        try:
            value = msgspec.json.decode(text)
        except msgspec.DecodeError as exc:
            self._reject(t, line_no, f"invalid JSON in the pretty-printed document starting here: {exc}", text, batch)
            return
        failures = 0
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and ("resourceSpans" in item or "resource_spans" in item):
                joiner = self._joiners.setdefault(t.path, StreamJoiner())
                failures += self._add_parsed(t, line_no, text, parse_traces(item, self.otlp_options, joiner), batch)
                continue
            try:
                batch.records.append(parse_line(msgspec.json.encode(item)))
            except Exception as exc:  # noqa: BLE001 - a bad document never stops the tail
                JsonlTail._bad_line(self, t, line_no, msgspec.json.encode(item), exc, batch)
                failures += 1
        if not failures:
            t.lines_ok += line_count

    def _add_parsed(self, t, line_no: int, head: bytes, parsed: OtlpLine, batch: SourceBatch) -> int:
        """Records, skipped spans and errors of parsed TracesData into the batch; the error count."""
        batch.records.extend(parsed.records)
        if parsed.skipped:
            self.spans_skipped[t.path] = self.spans_skipped.get(t.path, 0) + parsed.skipped
        for reason in parsed.errors:
            self._reject(t, line_no, reason, head, batch)
        return len(parsed.errors)

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
        if not self._add_parsed(t, line_no, line, parsed, batch):
            t.lines_ok += count_ok


def _drained(t) -> bool:
    """Every complete line of the file has been handed out."""
    r = t.reader
    return r is None or (r.idx >= len(r.lines) and r.read_pos >= t.size)
