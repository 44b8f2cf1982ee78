"""Files that are not one JSON object a line: pretty-printed JSON, and binary encodings.

A pretty-printed file (`jq . traces.json`, json.dumps(indent=2), an exporter's "pretty"
option) holds whole documents over many lines. Read line by line it would be thousands of
rejected lines; instead its lines are gathered until a document's closing bracket, which
pretty printers put at the start of a line, and the document is read whole: an OTLP
TracesData (or an array of them), or a schema v1 record (or an array of them).

A binary file is refused with one reason saying what to change. The Collector's file
exporter writes `format: proto` as length-delimited protobuf messages (a 4-byte big-endian
length before each TracesData, see exporter/fileexporter/file_writer.go in
opentelemetry-collector-contrib), and with `compression: zstd` each message is compressed:
neither is text, and the console reads the JSON encoding (`format: json`, no compression).
A gzip file is no exporter's (it compresses with zstd only) but a rotated app log: its reason
gives the command that makes a plain copy to ingest.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from console.records import MAX_LINE_BYTES
from console.sanitize import one_line

MAX_DOCUMENT_BYTES = MAX_LINE_BYTES * 64
_OPENERS = (b"{", b"[")
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b"
BINARY_REASON = (
    "a binary file, not JSON lines: {what}. In the Collector's file exporter set `format: json` "
    "(and no `compression`) to write one OTLP JSON object a line; the rest of this file is skipped"
)
GZIP_REASON = (
    "gzip-compressed, not JSON lines: logs are read as plain text only (a rotated .gz log too), so "
    "decompress it and ingest the copy: `{command}`; the rest of this file is skipped"
)


def is_binary(first_line: bytes) -> bool:
    head = first_line[:256]
    if b"\x00" in head or head.startswith(_GZIP_MAGIC):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # not just a character cut at the end of the excerpt
    return False


def _gunzip_command(path: str | None) -> str:
    """The shell line that makes a readable copy beside a .gz file (whole paths, quoted: it
    works from any directory)."""
    if path is None:
        return "zcat app.jsonl.gz > app.jsonl"
    path = one_line(path)
    plain = path[:-3] if path.endswith(".gz") and not path.endswith("/.gz") else path + ".jsonl"
    return f"zcat {shlex.quote(path)} > {shlex.quote(plain)}"


def binary_reason(first_line: bytes, path: str | None = None) -> str:
    """Why a binary file is refused, naming what it most likely is (path: the file's, for the
    gzip advice's command)."""
    if first_line.startswith(_GZIP_MAGIC):
        # a rotated app log (logrotate's compress), not the Collector's: its file exporter
        # compresses with zstd only, so its `format: json` advice would not apply
        return GZIP_REASON.format(command=_gunzip_command(path))
    if first_line[4:8] == _ZSTD_MAGIC:
        what = "zstd-compressed length-delimited messages (the file exporter's `compression: zstd`)"
    elif len(first_line) <= 4:  # the 4-byte length, then the TracesData's first field tag: b"\n"
        what = "length-delimited protobuf (the Collector file exporter's `format: proto`)"
    else:
        what = "not UTF-8 text"
    return BINARY_REASON.format(what=what)


def is_pretty_start(first_line: bytes) -> bool:
    """A first line that is only '{' or '[': how pretty printers (jq, json.dumps(indent=...),
    Go's MarshalIndent) open a document. Nothing looser: a JSONL file whose first line is
    broken must stay line by line, not be gathered into one endless document."""
    return first_line.strip() in _OPENERS


@dataclass(slots=True)
class Document:
    """The lines of one pretty-printed document, gathered until its closing bracket."""

    first_line_no: int = 0
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    too_big: bool = False
    first_offset: int = 0  # where the document's first line starts in its file
    inode: int = 0  # the file's

    @property
    def open(self) -> bool:
        """Some of a document's lines are read, its closing line not yet."""
        return bool(self.lines) or self.too_big

    def add(self, line_no: int, line: bytes, offset: int = 0) -> bytes | None:
        """Add a line (offset: where it starts in the file); the whole document's text once
        its closing line arrives, else None. A document over MAX_DOCUMENT_BYTES is dropped
        (too_big stays set until its end)."""
        if not self.lines and not self.too_big:
            if not line.strip():
                return None
            self.first_line_no, self.first_offset = line_no, offset
        self.size += len(line) + 1
        if self.size > MAX_DOCUMENT_BYTES:
            self.too_big, self.lines = True, []
        else:
            self.lines.append(line)
        if line[:1] in (b"}", b"]"):  # pretty printers close the top level at the start of a line
            text = b"\n".join(self.lines)
            self.lines, self.size = [], 0
            return text
        return None
