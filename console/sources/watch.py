"""Wake-ups for the JSONL tail: watchfiles in daemon threads, setting one threading.Event.

The tail never depends on these events for correctness: it re-reads after every timeout
anyway (the stat poll). Events only make the pick-up faster than the poll interval. If
watchfiles cannot start (too many inotify watches, an unsupported filesystem, a directory
that vanished), the watcher marks itself failed and the tail silently keeps polling.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import stat
import threading
from collections.abc import Sequence

log = logging.getLogger(__name__)

# PERFORMANCE.md: watchfiles defaults give a p99 pick-up of 100 ms; debounce 50 / step 10, 21 ms.
DEBOUNCE_MS = 50
STEP_MS = 10
RUST_TIMEOUT_MS = 500
_GLOB_MAGIC = re.compile(r"[*?[]")


def is_glob(path: str) -> bool:
    return _GLOB_MAGIC.search(path) is not None


class DirWatcher:
    """Watches the directories of absolute plain paths and globs; sets ``wake`` on a change.

    A plain path's parent is watched, a glob's deepest directory without magic (recursively
    when the glob spans subdirectories); a directory that does not exist yet is stood in for
    by its deepest existing ancestor until ``refresh()`` finds it. Events are filtered to our
    paths, the globs and the directories leading to them.
    """

    def __init__(self, wake: threading.Event, plain: Sequence[str], globs: Sequence[str]) -> None:
        self._wake = wake
        self._plain = list(plain)
        self._globs = [(g, *split_glob(g)) for g in globs]
        self._glob_res = [re.compile(fnmatch.translate(g)) for g in globs]
        bases = [os.path.dirname(p) for p in plain] + [base for _, base, _ in self._globs]
        self._interest = frozenset(plain) | frozenset(a for b in bases for a in _self_and_parents(b))
        self._key: tuple[frozenset, frozenset] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._failed = False
        self._closed = False

    def accept(self, path: str) -> bool:
        """Called on the watcher thread for every change: is it about one of our files?"""
        return path in self._interest or any(rx.match(path) for rx in self._glob_res)

    @property
    def watching(self) -> bool:
        """True while at least one watcher thread runs and none has failed."""
        return not self._failed and any(t.is_alive() for t in self._threads)

    def refresh(self) -> None:
        """(Re)start the threads if the directories to watch changed (appeared, recreated)."""
        flat: set[tuple[str, int]] = set()
        deep: set[tuple[str, int]] = set()
        for path in self._plain:
            found = _existing_dir(os.path.dirname(path))
            if found:
                flat.add(found)
        for _, base, rest in self._globs:
            found = _existing_dir(base)
            if found:
                spans_dirs = found[0] == base and (os.sep in rest or "**" in rest)
                (deep if spans_dirs else flat).add(found)
        key = (frozenset(flat), frozenset(deep))
        if self._closed or key == self._key:
            return
        self._shutdown()
        self._key = key
        self._failed = False
        self._stop = threading.Event()
        for entries, recursive in ((key[0], False), (key[1], True)):
            if entries:
                thread = threading.Thread(
                    target=self._run,
                    args=(sorted(path for path, _ in entries), recursive, self._stop),
                    name=f"jsonl-watch{'-r' if recursive else ''}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    def _run(self, dirs: list[str], recursive: bool, stop: threading.Event) -> None:
        try:
            import watchfiles

            for _changes in watchfiles.watch(
                *dirs,
                watch_filter=lambda _change, path: self.accept(path),
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                stop_event=stop,
                rust_timeout=RUST_TIMEOUT_MS,
                recursive=recursive,
                raise_interrupt=False,
                ignore_permission_denied=True,
            ):
                self._wake.set()
        except Exception as exc:  # noqa: BLE001 - any failure means: fall back to polling
            if not stop.is_set():
                self._failed = True
                log.debug("watchfiles stopped (%s); falling back to the stat poll", exc)

    def _shutdown(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=1.0)
        self._threads = []

    def close(self) -> None:
        self._closed = True
        self._shutdown()


def split_glob(pattern: str) -> tuple[str, str]:
    """'/a/b/*/c.jsonl' -> ('/a/b', '*/c.jsonl'): the deepest directory without glob magic."""
    parts = pattern.split(os.sep)
    for i, part in enumerate(parts):
        if is_glob(part):
            return os.sep.join(parts[:i]) or os.sep, os.sep.join(parts[i:])
    return os.path.dirname(pattern), os.path.basename(pattern)


def _self_and_parents(path: str) -> list[str]:
    out = [path]
    while (parent := os.path.dirname(path)) != path:
        out.append(parent)
        path = parent
    return out


def _existing_dir(path: str) -> tuple[str, int] | None:
    """The deepest existing directory at or above ``path``, with its inode."""
    for candidate in _self_and_parents(path):
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            return candidate, st.st_ino
    return None
