"""Request bodies compressed in blocks (a SQLite store, schema version 8).

The text of a request (input, output, error message, trace id, tags, metadata) was ~70% of a
store: one `request_bodies` row per request, as logged, about as big as the log itself. LLM
text repeats (system prompts, chat scaffolding), so runs of BLOCK_ROWS consecutive row ids
are kept as one zstd frame in `body_blocks` (MessagePack of the ids and the columns), about a
tenth of the size. A batch of at least DIRECT_MIN_ROWS new rows is written as blocks straight
away; smaller writes (the live tail) go to `request_bodies` as before and are gathered into
blocks once COMPACT_AT of them are loose, in the writer's transaction (a crash keeps either
the loose rows or the blocks, never both or neither).

A body is wherever its row's id is: `request_bodies` when loose, else the block covering the
id. Readers join `request_bodies` as before and fill the rows the join left empty from the
blocks (`BlockReader`, the last few blocks kept decompressed); the `/` filter's text words
call `body_has(id, word)` for those rows (a SQLite function registered on every connection of
the store's engine, console.store.engine). A PostgreSQL store keeps every body loose
(PostgreSQL compresses large values itself).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from typing import Iterable, Sequence

import msgspec
import numpy as np

from console.store.schema_facts import BODY_COLUMNS

BLOCK_ROWS = 2048
DIRECT_MIN_ROWS = 1024
COMPACT_AT = 8192
ZSTD_LEVEL = 3
CACHED_BLOCKS = 8
_WORDS_KEPT = 4  # a cached block's answers kept for this many words (a filter has a few)
_FIELDS = BODY_COLUMNS[1:]  # input, output, error_message, trace_id, tags, extra, input_is_json, output_is_json
_SEARCHED = (_FIELDS.index("output"), _FIELDS.index("input"), _FIELDS.index("error_message"))


class _Block(msgspec.Struct, array_like=True):
    ids: bytes  # int64
    columns: list[list]


def _compressor():
    import zstandard

    return zstandard.ZstdCompressor(level=ZSTD_LEVEL)


def encode(rows: Sequence[tuple]) -> bytes:
    """A block of (id, *body) rows, ids ascending."""
    ids = np.fromiter((row[0] for row in rows), np.int64, len(rows))
    return _block_bytes(_compressor(), ids, [row[1:] for row in rows])


def _block_bytes(compressor, ids: np.ndarray, bodies: Sequence[tuple]) -> bytes:
    """The block of body tuples (without ids) whose ids are `ids` (int64, ascending)."""
    columns = [list(column) for column in zip(*bodies)]
    return compressor.compress(msgspec.msgpack.encode(_Block(ids.tobytes(), columns)))


def decode(data: bytes) -> tuple[np.ndarray, list[list]]:
    return decode_raw(decompress(data))


def decompress(data: bytes) -> bytes:
    """A block's MessagePack (its texts as UTF-8 bytes, as stored)."""
    import zstandard

    return zstandard.ZstdDecompressor().decompress(data)


def decode_raw(raw: bytes) -> tuple[np.ndarray, list[list]]:
    block = msgspec.msgpack.decode(raw, type=_Block)
    return np.frombuffer(block.ids, np.int64), block.columns


def searched_texts(columns: list[list]) -> tuple[list, ...]:
    """The columns a text word is looked for in: output, input, error message."""
    return tuple(columns[i] for i in _SEARCHED)


_INSERT = "INSERT INTO body_blocks (first_id, last_id, rows, data) VALUES (?, ?, ?, ?)"


def write_blocks(conn: sqlite3.Connection, rows: Sequence[tuple]) -> None:
    """(id, *body) rows, ids ascending, as blocks of BLOCK_ROWS (the caller's transaction)."""
    insert_blocks(conn, encode_blocks(rows))


def insert_blocks(conn: sqlite3.Connection, blocks: Sequence[tuple[int, int, int, bytes]]) -> None:
    """Blocks made by encode_blocks (the caller's transaction)."""
    conn.executemany(_INSERT, blocks)


def encode_blocks(rows: Sequence[tuple]) -> list[tuple[int, int, int, bytes]]:
    """(first_id, last_id, rows, data) of the blocks write_blocks stores for these rows."""
    found = []
    for first in range(0, len(rows), BLOCK_ROWS):
        chunk = rows[first : first + BLOCK_ROWS]
        found.append((chunk[0][0], chunk[-1][0], len(chunk), encode(chunk)))
    return found


def encode_bodies(start: int, bodies: Sequence[tuple]) -> list[tuple[int, int, int, bytes]]:
    """encode_blocks' blocks (the same bytes) of body tuples without ids whose ids run from
    start: a bulk load's batch, without an (id, *body) tuple made a row only to be taken
    apart again (0.4 of the 1.15 us a row encode_blocks took)."""
    compressor, found = _compressor(), []
    for first in range(0, len(bodies), BLOCK_ROWS):
        chunk = bodies[first : first + BLOCK_ROWS]
        low = start + first
        ids = np.arange(low, low + len(chunk), dtype=np.int64)
        found.append((low, low + len(chunk) - 1, len(chunk), _block_bytes(compressor, ids, chunk)))
    return found


def bodies_of_blocks(blocks: Sequence[tuple[int, int, int, bytes]]) -> list[tuple]:
    """The body tuples (without ids, in order) held by encode_blocks' blocks."""
    bodies: list[tuple] = []
    for _first, _last, _rows, data in blocks:
        _ids, columns = decode(data)
        bodies.extend(zip(*columns))
    return bodies


def compact(conn: sqlite3.Connection) -> int:
    """Every loose body into blocks (the caller's write transaction); returns how many."""
    cursor = conn.execute(f"SELECT {', '.join(BODY_COLUMNS)} FROM request_bodies ORDER BY id")
    moved = 0
    while rows := cursor.fetchmany(BLOCK_ROWS):  # a block in memory at a time
        write_blocks(conn, rows)
        moved += len(rows)
    if moved:
        conn.execute("DELETE FROM request_bodies")
    return moved


def loose_count(conn: sqlite3.Connection) -> int:
    try:
        return conn.execute("SELECT count(*) FROM request_bodies").fetchone()[0]
    except sqlite3.OperationalError:  # no tables yet (a writer on a file no Store made)
        return 0


# -- reading ----------------------------------------------------------------------------------


def _holds(ids: np.ndarray, row_id: int) -> bool:
    at = int(np.searchsorted(ids, row_id))
    return at < len(ids) and int(ids[at]) == row_id


class BlockReader:
    """Bodies by row id from one SQLite file's blocks, on a connection of its own (blocks are
    never changed once written, so any snapshot that lacks a loose body has its block)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, list] = OrderedDict()  # first_id -> [last_id, ids, columns, lowered, hits by word, id set]
        self._file: tuple[int, int] | None = None
        # has(): the word last asked, the id range and ids of the block last looked in, and
        # its ids holding the word (the filter asks row after row of the same block)
        self._recent: tuple[str, int, int, frozenset, frozenset] | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        return self._conn

    def _check_file(self) -> None:
        """A store file made anew at the same path (tests do) is another store: reopen, forget."""
        try:
            identity = os.stat(self.path)
        except OSError:
            return
        key = (identity.st_dev, identity.st_ino)
        if key != self._file:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._cache.clear()
            self._recent = None
            self._file = key

    def _block(self, row_id: int):
        """(last_id, ids, columns, lowered) of the block holding row_id, or None.

        Blocks may overlap: loose bodies gathered by compact() have the ids the live tail got
        between a bulk ingest's blocks, so such a block's ids are sparse and its range spans
        blocks written meanwhile. The block holding an id is one whose range covers it and
        whose ids include it (not merely the one starting nearest below it)."""
        for first_id, cached in reversed(self._cache.items()):  # the last used first
            if first_id <= row_id <= cached[0] and _holds(cached[1], row_id):
                self._cache.move_to_end(first_id)
                return cached
        self._check_file()
        # the blocks starting at or below it, nearest first, read lazily: the nearest nearly
        # always holds it. (With `AND last_id >= ?` in the statement SQLite 3.40 read every
        # block below it before the first row: 500 at the middle of a 1M-row store.)
        candidates = self._connection().execute(
            "SELECT first_id, last_id FROM body_blocks WHERE first_id <= ? ORDER BY first_id DESC", (row_id,)
        )
        try:
            for first_id, last_id in candidates:
                if last_id < row_id:
                    continue  # ends below it (a gathered block's range may still span it further down)
                if first_id in self._cache:
                    continue  # cached, and not holding it (looked at above)
                (data,) = self._connection().execute(
                    "SELECT data FROM body_blocks WHERE first_id = ?", (first_id,)
                ).fetchone()
                ids, columns = decode(data)
                cached = [last_id, ids, columns, None, {}, None]
                self._cache[first_id] = cached  # type: ignore[assignment]
                while len(self._cache) > CACHED_BLOCKS:
                    self._cache.popitem(last=False)
                if _holds(ids, row_id):
                    return cached
            return None
        finally:
            candidates.close()  # its read of the file ends here, not when it is collected

    def bodies(self, row_ids: Iterable[int]) -> dict[int, tuple]:
        """row id -> its body columns (BODY_COLUMNS after id), for the ids some block holds."""
        found: dict[int, tuple] = {}
        with self._lock:
            self._check_file()
            for row_id in sorted(set(row_ids)):
                block = self._block(row_id)
                if block is None:
                    continue
                ids, columns = block[1], block[2]
                at = int(np.searchsorted(ids, row_id))
                if at < len(ids) and ids[at] == row_id:
                    found[row_id] = tuple(column[at] for column in columns)
        return found

    def has(self, row_id: int, word: str) -> bool:
        """Whether the word is in the row's output, input or error message (lower-cased), as
        the filter's LIKE over a loose body asks.

        SQLite calls it for every row a filter scans, in time order, so for the rows of one
        block after another: a block's rows holding the word are found once, and each row is
        then a set lookup (searching the block's ids row by row was 30 s of a word's 1M-row
        scan)."""
        if row_id is None or word is None:
            return False
        row_id = int(row_id)
        with self._lock:
            recent = self._recent
            if recent is not None and recent[0] == word and recent[1] <= row_id <= recent[2] and row_id in recent[3]:
                return row_id in recent[4]
            block = self._block(row_id)
            if block is None:
                return False
            ids = block[1]
            if not _holds(ids, row_id):
                return False
            hits = block[4].get(word)
            if hits is None:
                if block[3] is None:
                    block[3] = [[(value or "").lower() for value in texts] for texts in searched_texts(block[2])]
                hits = frozenset(int(ids[at]) for texts in block[3] for at, text in enumerate(texts) if word in text)
                if len(block[4]) >= _WORDS_KEPT:
                    block[4].clear()
                block[4][word] = hits
            if block[5] is None:
                block[5] = frozenset(ids.tolist())
            self._recent = (word, int(ids[0]), int(ids[-1]), block[5], hits)
            return row_id in hits

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._cache.clear()
            self._recent = None


_READERS: dict[str, BlockReader] = {}
_READERS_LOCK = threading.Lock()


def reader_for(path: str | None) -> BlockReader | None:
    """The process's reader of a SQLite file's blocks (None for no file: nothing in blocks)."""
    if not path or path == ":memory:":
        return None
    with _READERS_LOCK:
        reader = _READERS.get(path)
        if reader is None:
            reader = _READERS[path] = BlockReader(path)
        return reader


def reader_of_engine(engine) -> BlockReader | None:
    return reader_for(engine.url.database) if engine.dialect.name == "sqlite" else None


def fill(reader: BlockReader | None, rows: list, id_at: int, body_at: int) -> list:
    """Rows of `SELECT ..., r.id, ..., b.<BODY_COLUMNS after id>` whose LEFT JOIN found no
    loose body, with their body from the blocks (rows as lists or tuples; a new list)."""
    flag = body_at + len(_FIELDS) - 2  # input_is_json: NOT NULL in a loose body
    missing = [row[id_at] for row in rows if row[flag] is None]
    if reader is None or not missing:
        return rows
    bodies = reader.bodies(missing)
    filled = []
    for row in rows:
        body = bodies.get(row[id_at]) if row[flag] is None else None
        filled.append(row if body is None else (*row[:body_at], *body, *row[body_at + len(_FIELDS) :]))
    return filled
