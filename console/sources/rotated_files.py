"""Where the rest of a log went while no tail read it: the file logrotate renamed, or the copy
copytruncate made before cutting it in place. Both lie beside the log under a name that starts
with the log's (app.jsonl.1, app.jsonl-20261207); a compressed one cannot be read on and is
not found. Used by console/sources/jsonl.py's JsonlTail."""

from __future__ import annotations

import os
import stat

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def ends_a_line(fd: int, offset: int) -> bool:
    """A saved offset is the end of a line: a file cut (copytruncate) and written past it
    while no tail ran has anything there. True when it cannot be read (the read says why)."""
    if offset == 0:
        return True
    try:
        return os.pread(fd, 1, offset - 1) == b"\n"
    except OSError:
        return True


def _beside(path: str) -> list[os.DirEntry]:
    """The files beside `path` whose names start with its name (not itself)."""
    folder, name = os.path.split(path)
    with os.scandir(folder or ".") as entries:
        return [entry for entry in entries if entry.name != name and entry.name.startswith(name)]


def open_copy(path: str, inode: int, offset: int, last_line: bytes) -> tuple[int, os.stat_result] | None:
    """copytruncate's copy of the file `inode` was (at `path`): the newest file beside it of
    another inode, holding `offset` bytes whose last ones are `last_line` and a newline (just
    the newline for b""): opened, with its stat. None when there is none (compressed at once,
    not found)."""
    try:
        siblings = [entry for entry in _beside(path) if entry.inode() != inode]
        newest = max(siblings, key=lambda entry: entry.stat().st_mtime_ns, default=None)
        if newest is None:
            return None
        fd = os.open(newest.path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        expected = last_line + b"\n"
        if stat.S_ISREG(st.st_mode) and st.st_size >= offset >= len(expected) \
                and os.pread(fd, len(expected), offset - len(expected)) == expected:
            return fd, st
    except OSError:
        pass
    os.close(fd)
    return None


def open_rotated(path: str, inode: int, offset: int) -> tuple[int, os.stat_result] | None:
    """The file a saved position (inode, offset) was in, renamed beside `path` since, when it
    still holds the offset: opened, with its stat. None when there is none (deleted,
    compressed) or it cannot be opened."""
    try:
        siblings = [entry for entry in _beside(path) if entry.inode() == inode]
    except OSError:
        return None
    for entry in siblings:
        try:
            fd = os.open(entry.path, _OPEN_FLAGS)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode) and st.st_ino == inode and 0 <= offset <= st.st_size:
            return fd, st
        os.close(fd)
    return None
