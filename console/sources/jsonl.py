"""The JSONL tail: follow many files and globs line by line, across truncation and rotation.

Reading is binary, in 1 MiB chunks with ``os.pread``, split on ``b"\\n"``; each complete line
goes to ``parse_line`` as bytes (decoded once, by msgspec). A file's position is the end of its
last complete line consumed, so a checkpointed ``FilePosition`` resumes exactly there.

- A partial last line is held until its newline arrives; CRLF loses its ``\\r``; blank lines
  are skipped but counted in line numbers.
- Truncation (same inode, size below what was read): start again from 0, line 1. So does a
  saved position that no longer ends a line (cut and written past it while no tail ran).
  copytruncate's copy beside it (``app.jsonl.1``, holding what was read up to the offset) is
  read on from the offset first: the lines written before the cut and not read yet.
- Rotation (the path now names another inode, or is gone): the old descriptor is read to its
  end first (a renamed or deleted file stays readable through it), then the new file from 0.
  Rotated while no tail ran (a saved position whose inode the path no longer names): the
  file beside it under a rotated name (``app.jsonl.1``) with that inode is read on from the
  saved offset first.
- Deleted while open (its last link gone, no new file at the path): the descriptor is read
  to its end ('deleted, draining'), kept DELETED_GRACE_S more in case the app still writes
  to it, then closed, which frees its disk space ('gone'); a last line without its newline
  is rejected then, not dropped silently.
- A line over ``MAX_LINE_BYTES`` is never held whole: bytes are dropped up to its newline and
  one rejection is emitted with an excerpt of its start (a rejected line's excerpt:
  ``sources/excerpt.py``).
- Nothing raises out of ``read_available``: unreadable or vanished files show in ``files``.

One thread calls ``read_available`` / ``wait_for_change``; ``close`` may come from any thread.
"""

from __future__ import annotations

import glob
import os
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from console.records import MAX_LINE_BYTES, RecordError, RequestRecord, parse_line
from console.sources.base import FilePosition, RejectedLine, SourceBatch
from console.sources.excerpt import EXCERPT_CHARS, excerpt
from console.sources.rotated_files import ends_a_line, open_copy, open_rotated
from console.sources.watch import DirWatcher, is_glob

CHUNK_BYTES = 1 << 20
MAX_BYTES_PER_CALL = 64 << 20  # bounds the time of one call even while skipping an endless line
_HEAD_BYTES = EXCERPT_CHARS * 4  # what is held of a line over the limit: enough for its excerpt
# A UTF-8 byte order mark at the very start of a file (Windows editors write one) is skipped;
# one at the start of any later line is a rejected line that says so.
_BOM = b"\xef\xbb\xbf"
# A deleted file read to its end is held open this long more (the app may still be writing
# to its descriptor), then closed so its disk space is freed.
DELETED_GRACE_S = 5.0
FOLLOWING, WAITING, DRAINING, GONE = "following", "waiting", "deleted, draining", "gone"


@dataclass(frozen=True, slots=True)
class FileStatus:
    """One known path, for the UI's sources list.

    state: 'following'; 'waiting' (does not exist now); 'deleted, draining' (deleted while
    open, still being read to its end through the open descriptor); 'gone' (deleted and
    read to its end, the descriptor closed; 'following' again if the path is created anew);
    or 'unreadable: <reason>'.
    """

    path: str
    size: int
    offset: int
    line_no: int
    state: str
    lines_ok: int
    lines_rejected: int


class _Reader:
    """One open descriptor and how far its lines have been consumed."""

    __slots__ = ("fd", "dev", "inode", "offset", "line_no", "read_pos", "lines", "idx",
                 "partial", "overlong", "overlong_head", "last_line")

    def __init__(self, fd: int, dev: int, inode: int, offset: int = 0, line_no: int = 0) -> None:
        self.fd, self.dev, self.inode = fd, dev, inode
        self.reset(offset, line_no)

    def reset(self, offset: int = 0, line_no: int = 0) -> None:
        self.offset = offset  # end of the last complete line consumed
        self.line_no = line_no  # number of that line
        self.read_pos = offset  # how far the file has been read into the buffer
        self.lines: list[bytes] = []  # complete lines read, not yet consumed (from idx)
        self.idx = 0
        self.partial = b""  # bytes after the last newline read
        self.overlong = 0  # bytes of a too-long line being skipped (0: not skipping)
        self.overlong_head = b""
        self.last_line = b""  # the last complete line consumed: what a copytruncate's copy holds before offset

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


class _Tracked:
    __slots__ = ("path", "reader", "state", "size", "lines_ok", "lines_rejected",
                 "reported", "resume", "drained_at")

    def __init__(self, path: str, resume: FilePosition | None) -> None:
        self.path = path
        self.reader: _Reader | None = None
        self.state = "waiting"
        self.size = 0
        self.lines_ok = 0
        self.lines_rejected = 0
        self.reported: tuple[int, int, int] | None = None  # (inode, offset, line_no) last handed out
        self.resume = resume
        self.drained_at: float | None = None  # deleted and read to its end since (monotonic)


class JsonlTail:
    """Tail JSONL request logs: plain paths and globs (re-expanded on every read)."""

    def __init__(
        self,
        patterns: Sequence[str | Path],
        positions: Mapping[str, FilePosition] | None = None,
        *,
        max_lines: int = 20_000,
        poll_interval: float = 0.1,
        watch: bool = True,
    ) -> None:
        """With watch=False (one-shot ingest) no watcher thread starts; wait_for_change sleeps."""
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        self.max_lines = max_lines
        self.poll_interval = poll_interval
        self._plain: list[str] = []
        self._globs: list[str] = []
        for pattern in patterns:
            path = os.path.abspath(os.path.expanduser(os.fspath(pattern)))
            # a file whose name holds glob characters ("app[1].jsonl") is that file
            target = self._globs if is_glob(path) and not os.path.isfile(path) else self._plain
            if path not in target:
                target.append(path)
        self._resume = {os.path.abspath(k): v for k, v in (positions or {}).items()}
        self._tracked: dict[str, _Tracked] = {}
        for path in self._plain:
            self._track(path)
        # how a line becomes a record: `ingest`'s bulk load sets records_for_store's
        self.parse: Callable[[bytes], RequestRecord] = parse_line
        self._start = 0
        self._has_more = False
        self._lines_left = 0
        self._bytes_left = 0
        self._closed = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._watcher = DirWatcher(self._wake, self._plain, self._globs)
        self._watch = watch
        if watch:
            self._watcher.refresh()

    # -- public -------------------------------------------------------------------------------

    def read_available(self) -> SourceBatch:
        """Read the complete new lines of every file, at most ``max_lines`` in all; never blocks."""
        batch = SourceBatch()
        with self._lock:
            self._has_more = False
            if self._closed:
                return batch
            self._discover()
            if self._watch:
                self._watcher.refresh()
            self._lines_left, self._bytes_left = self.max_lines, MAX_BYTES_PER_CALL
            tracked = list(self._tracked.values())
            count = len(tracked)
            for i in range(count):
                index = (self._start + i) % count
                entry = tracked[index]
                self._pump(entry, batch)
                self._report(entry, batch)
                if self._lines_left <= 0 or self._bytes_left <= 0:
                    self._has_more = True
                    self._start = index + 1  # the next call starts with the next file: fairness
                    break
        return batch

    @property
    def has_more(self) -> bool:
        """True when the last ``read_available`` stopped at its bound (more may be waiting)."""
        return self._has_more

    def wait_for_change(self, timeout: float | None = None) -> bool:
        """Block until a watched directory changes (True) or ``timeout`` passes (False).

        ``timeout`` defaults to ``poll_interval``. Without working watchfiles this is a plain
        sleep, and the caller's next ``read_available`` is the stat poll.
        """
        if self._closed:
            return False
        woke = self._wake.wait(self.poll_interval if timeout is None else timeout)
        self._wake.clear()
        return woke and not self._closed

    @property
    def watching(self) -> bool:
        """True while watchfiles events are live; False means stat-poll only."""
        return self._watcher.watching

    @property
    def files(self) -> list[FileStatus]:
        out = []
        for t in list(self._tracked.values()):
            r = t.reader
            out.append(FileStatus(
                path=t.path,
                size=t.size,
                offset=r.offset if r else 0,
                line_no=r.line_no if r else 0,
                state=t.state,
                lines_ok=t.lines_ok,
                lines_rejected=t.lines_rejected,
            ))
        return out

    def close(self) -> None:
        """Stop the watcher threads and close every descriptor; idempotent."""
        self._closed = True
        self._wake.set()  # release a wait_for_change in progress
        with self._lock:  # after any read in progress, which may restart the watcher
            self._watcher.close()
            for t in self._tracked.values():
                if t.reader is not None:
                    t.reader.close()
                    t.reader = None

    def __enter__(self) -> JsonlTail:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- discovery and watching -----------------------------------------------------------------

    def _track(self, path: str) -> _Tracked:
        entry = _Tracked(path, self._resume.pop(path, None))
        self._tracked[path] = entry
        return entry

    def _discover(self) -> None:
        for pattern in self._globs:
            try:
                matches = sorted(glob.glob(pattern, recursive=True))
            except OSError:
                continue
            for path in matches:
                if path in self._tracked:
                    continue
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    self._adopt_rotated(self._track(path), st)

    def _adopt_rotated(self, entry: _Tracked, st: os.stat_result) -> None:
        """A new match that is a file we already hold open under its old name (renamed by
        rotation, and the glob matches the new name too) continues where it was: no re-read."""
        for other in self._tracked.values():
            r = other.reader
            if other is entry or r is None or (r.dev, r.inode) != (st.st_dev, st.st_ino):
                continue
            try:
                cur = os.stat(other.path)
                moved = (cur.st_dev, cur.st_ino) != (r.dev, r.inode)
            except OSError:
                moved = True
            if moved:
                entry.reader, other.reader = r, None
                entry.resume = None
                return

    # -- reading --------------------------------------------------------------------------------

    def _pump(self, t: _Tracked, batch: SourceBatch) -> None:
        error: OSError | None = None
        try:
            st: os.stat_result | None = os.stat(t.path)
        except OSError as exc:
            st = None
            if not isinstance(exc, (FileNotFoundError, NotADirectoryError)):
                error = exc
        try:
            r = t.reader
            if r is not None and (st is None or (st.st_dev, st.st_ino) != (r.dev, r.inode)):
                # Rotated, deleted or replaced: finish the old descriptor first.
                read_before = r.read_pos
                self._consume(t, r, batch)
                if st is None:
                    self._drain_deleted(t, r, batch, r.read_pos != read_before)
                    return
                if self._lines_left <= 0 or self._bytes_left <= 0:
                    t.state = FOLLOWING
                    return
                r.close()
                t.reader = r = None
            t.drained_at = None
            if r is None:
                if st is None:
                    t.state, t.size = (_unreadable(error) if error else GONE if t.state == GONE else WAITING), 0
                    return
                t.size = st.st_size
                if not stat.S_ISREG(st.st_mode):
                    t.state = "unreadable: not a regular file"
                    return
                r = self._open(t)
            t.state = FOLLOWING
            self._consume(t, r, batch)
        except OSError as exc:  # open or read failed: keep the place, retry on the next call
            t.state = _unreadable(exc)
            r = t.reader
            if r is not None:
                t.resume = FilePosition(t.path, r.inode, r.offset, r.line_no)
                r.close()
                t.reader = None

    def _drain_deleted(self, t: _Tracked, r: _Reader, batch: SourceBatch, grew: bool) -> None:
        """The path is gone but its descriptor is open: read on while the file has other
        names (renamed away) or is being drained; close it once deleted and idle at its end."""
        try:
            st = os.fstat(r.fd)
        except OSError:
            st = None
        if st is not None and st.st_nlink > 0:  # renamed, not recreated yet: the app may write on
            t.state, t.drained_at = FOLLOWING, None
            return
        at_end = st is not None and r.idx >= len(r.lines) and r.read_pos >= st.st_size and not r.overlong
        if not at_end:
            t.state, t.drained_at = DRAINING, None
            return
        now = time.monotonic()
        if t.drained_at is None or grew:  # idle at its end since now
            t.drained_at = now
        if now - t.drained_at < DELETED_GRACE_S:
            t.state = DRAINING
            return
        if r.partial.strip():  # the app died mid-line: say so rather than drop it silently
            reason = f"incomplete last line ({len(r.partial):,} bytes, no newline) of a deleted file"
            self._reject(t, r.line_no + 1, reason, r.partial, batch)
        r.close()
        t.reader, t.state, t.drained_at, t.size = None, GONE, None, 0

    def _open(self, t: _Tracked) -> _Reader:
        fd = os.open(t.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
        except OSError:
            os.close(fd)
            raise
        offset = line_no = 0
        pos, t.resume = t.resume, None
        if pos is not None and pos.inode != st.st_ino:
            rotated = open_rotated(t.path, pos.inode, pos.offset)
            if rotated is not None:  # rotated while no tail ran: its rest first, the path's file next
                os.close(fd)
                fd, st = rotated
        if pos is not None and pos.inode == st.st_ino and 0 <= pos.offset <= st.st_size and ends_a_line(fd, pos.offset):
            offset, line_no = pos.offset, pos.line_no
        elif pos is not None and pos.inode == st.st_ino:  # cut in place while no tail ran: its copy's rest first
            copy = _copy_of(t.path, _Reader(fd, st.st_dev, st.st_ino, pos.offset, pos.line_no), check_line=False)
            if copy is not None:
                os.close(fd)
                t.reader = copy
                if t.reported is None:
                    t.reported = (copy.inode, copy.offset, copy.line_no)
                return copy
        t.reader = _Reader(fd, st.st_dev, st.st_ino, offset, line_no)
        if t.reported is None:
            t.reported = (st.st_ino, offset, line_no)
        return t.reader

    def _consume(self, t: _Tracked, r: _Reader, batch: SourceBatch) -> None:
        """Hand out buffered lines, reading more chunks, until EOF or the call's budget ends."""
        while True:
            if r.idx < len(r.lines):
                if self._lines_left <= 0:
                    return
                taken = min(len(r.lines) - r.idx, self._lines_left)
                chunk = r.lines[r.idx:r.idx + taken]
                self._parse_lines(t, chunk, r.line_no + 1, batch)
                r.last_line = chunk[-1]
                r.offset += sum(map(len, chunk)) + taken
                r.line_no += taken
                r.idx += taken
                self._lines_left -= taken
                batch.lines_read += taken
                continue
            if self._lines_left <= 0 or self._bytes_left <= 0:
                return
            size = os.fstat(r.fd).st_size
            if size < r.read_pos:  # truncated in place (copytruncate): its copy's rest, then start over
                copy = _copy_of(t.path, r) if t.reader is r else None
                if copy is not None:  # the path's file once the copy is read (a rotation)
                    r.close()
                    t.reader = r = copy
                    continue
                r.reset()
            t.size = size
            if size == r.read_pos:
                return
            data = os.pread(r.fd, CHUNK_BYTES, r.read_pos)
            if not data:
                return
            r.read_pos += len(data)
            self._bytes_left -= len(data)
            if r.overlong:  # skipping a too-long line up to its newline
                nl = data.find(b"\n")
                if nl < 0:
                    r.overlong += len(data)
                    continue
                length = r.overlong + nl
                r.offset += length + 1
                r.line_no += 1
                self._lines_left -= 1
                batch.lines_read += 1
                reason = f"line is {length:,} bytes, over the {MAX_LINE_BYTES // 1024 // 1024} MiB limit"
                self._reject(t, r.line_no, reason, r.overlong_head, batch, line_bytes=length)
                r.overlong, r.overlong_head = 0, b""
                data = data[nl + 1:]
            if r.partial:
                data = r.partial + data
            r.lines = data.split(b"\n")
            r.partial = r.lines.pop()
            r.idx = 0
            if r.line_no == 0 and r.lines and r.lines[0][:3] == _BOM:  # the file's first line
                r.lines[0] = r.lines[0][3:]
                r.offset += 3
            if len(r.partial) > MAX_LINE_BYTES:
                r.overlong, r.overlong_head = len(r.partial), r.partial[:_HEAD_BYTES]
                r.partial = b""

    def _parse_lines(self, t: _Tracked, lines: list[bytes], first_no: int, batch: SourceBatch) -> None:
        records = batch.records
        before = len(records)
        append = records.append
        parse = self.parse
        for line_no, line in enumerate(lines, first_no):
            try:  # the hot path: a good line (JSON allows the \r of CRLF as trailing space)
                append(parse(line))
            except Exception as exc:  # noqa: BLE001 - a bad line must never stop the tail
                self._bad_line(t, line_no, line, exc, batch)
        t.lines_ok += len(records) - before

    def _bad_line(self, t: _Tracked, line_no: int, line: bytes, exc: Exception, batch: SourceBatch) -> None:
        rejected = bad_line(t.path, line_no, line, exc)
        if rejected is not None:
            batch.rejected.append(rejected)
            t.lines_rejected += 1

    def _reject(self, t: _Tracked, line_no: int, reason: str, head: bytes, batch: SourceBatch,
                line_bytes: int | None = None) -> None:
        batch.rejected.append(rejected_line(t.path, line_no, reason, head, line_bytes))
        t.lines_rejected += 1

    def count_parsed(self, path: str, ok: int, rejected: int) -> None:
        """Lines of `path` parsed elsewhere (the live console's decoding process), counted as
        if parsed here."""
        t = self._tracked.get(path)
        if t is not None:
            t.lines_ok += ok
            t.lines_rejected += rejected

    def _report(self, t: _Tracked, batch: SourceBatch) -> None:
        r = t.reader
        if r is None:
            return
        current = (r.inode, r.offset, r.line_no)
        if current != t.reported:
            batch.positions[t.path] = FilePosition(t.path, *current)
            t.reported = current


def bad_line(path: str, line_no: int, line: bytes, exc: Exception) -> RejectedLine | None:
    """What a line parse_line refused is reported as; None for a blank line (skipped
    silently, but counted in line numbers)."""
    if line[-1:] == b"\r":
        line = line[:-1]
    if not line or line.isspace():
        return None
    if line[:3] == _BOM:
        reason = "a UTF-8 byte order mark (BOM) starts the line; one is skipped only at the start of a file"
    elif isinstance(exc, RecordError):
        reason = str(exc)
    elif isinstance(exc, UnicodeDecodeError):
        reason = f"invalid UTF-8 at byte {exc.start}: {exc.reason}"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return rejected_line(path, line_no, reason, line)


def rejected_line(path: str, line_no: int, reason: str, line: bytes, line_bytes: int | None = None) -> RejectedLine:
    """line: the line, or only its first bytes when line_bytes (its length) says it was longer."""
    return RejectedLine(path, line_no, reason, excerpt(line, reason, line_bytes))


def _copy_of(path: str, r: _Reader, check_line: bool = True) -> _Reader | None:
    """A reader at r's place in copytruncate's copy of r's file (rotated_files.open_copy; with
    check_line, the copy must hold the last line r read just before the offset)."""
    if r.offset <= 0 or (check_line and not r.last_line):
        return None
    found = open_copy(path, r.inode, r.offset, r.last_line if check_line else b"")
    if found is None:
        return None
    fd, st = found
    return _Reader(fd, st.st_dev, st.st_ino, r.offset, r.line_no)


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "unreadable: permission denied"
    return f"unreadable: {exc.strerror or exc}"
