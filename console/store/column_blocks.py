"""Column blocks: the numbers of the requests table kept beside it as numpy arrays.

Loading a million rows through sqlite3 makes 17 million Python objects (most of the time
`report` took); a block holds the same values for a run of row ids as arrays, so a load
reads a few dozen blobs instead. A block is written in the transaction that inserts its
rows, so blocks and rows never disagree (a crash loses both or neither), and the console
never updates or deletes rows (a tool that rewrites them must `rebuild` the blocks). A block
covers every row whose id is in [first_id, last_id]; rows no block covers (a store from
before blocks, rows inserted by hand) are read from the table.

Small blocks (the live tail commits a few rows at a time) are merged as they pile up:
FAN_IN blocks of one level become one of the next, up to MERGE_MAX_ROWS rows, so a store
holds few blocks and each row is rewritten a handful of times at most.

SQLite only: a PostgreSQL store is loaded from its rows (its ids are handed out by a
sequence, so a block could not be sure to cover its range).
"""

from __future__ import annotations

import operator
import sqlite3
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Iterable, Sequence

import msgspec
import numpy as np

from console.analytics.columns import Columns, request_keys
from console.store.rows import ROW_WIDTH
from console.store.schema_facts import REQUEST_COLUMNS
from console.store.text_codes import JointCodes

FAN_IN = 8
MERGE_MAX_ROWS = 131_072
BACKFILL_ROWS = 65_536  # rows a block made from existing rows holds
BACKFILL_LEVEL = 99  # a level no merge reaches: such blocks are full already

FLOAT_COLUMNS = ("ts", "latency_ms", "ttft_ms", "cost_usd", "feedback", "estimated_cost_usd")
INT_COLUMNS = ("input_tokens", "output_tokens", "cached_input_tokens")
TEXT_COLUMNS = ("model", "prompt_id", "prompt_version", "user_id", "environment", "prompt_hash", "provider")
# Columns' name for each text column
_CATEGORY_OF = {"user_id": "user"}
# the requests columns a block is made from, in the order rows_to_raw takes them
SOURCE_COLUMNS = ("id", "request_id", "status", *FLOAT_COLUMNS, *INT_COLUMNS, *TEXT_COLUMNS)
_REQUEST_INDEX = {name: REQUEST_COLUMNS.index(name) for name in SOURCE_COLUMNS[1:]}


class _Encoded(msgspec.Struct, array_like=True):
    count: int
    # written from bytes; read as views into the decoded buffer (msgspec's zero-copy bin:
    # copying each array out was ~1.5 ms of a report's 4 blocks), which np.frombuffer wraps
    arrays: dict[str, memoryview]
    names: dict[str, list[str]]


@dataclass
class RawBlock:
    """A run of rows in id order: numbers as arrays (ids, request keys, is_error, the
    float and int columns), text columns as codes into per-block names."""

    arrays: dict[str, np.ndarray]
    names: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.arrays["id"])

    def encode(self) -> bytes:
        """MessagePack of the arrays, zstd-compressed (level 1: ~4x smaller on a log's numbers,
        ~0.3 ms per 1,000 rows)."""
        arrays = {name: np.ascontiguousarray(column).tobytes() for name, column in self.arrays.items()}
        return _zstd().compress(msgspec.msgpack.encode(_Encoded(len(self), arrays, self.names)))

    @classmethod
    def decode(cls, data: bytes) -> RawBlock:
        if data[:4] == _ZSTD_MAGIC:  # blocks written before compression are plain MessagePack
            import zstandard

            data = zstandard.ZstdDecompressor().decompress(data)
        encoded = msgspec.msgpack.decode(data, type=_Encoded)
        arrays = {name: np.frombuffer(raw, _DTYPES[name]) for name, raw in encoded.arrays.items()}
        for name in FLOAT_COLUMNS:  # a block from before the column (schema 6): none estimated
            if name not in arrays:
                arrays[name] = np.full(encoded.count, np.nan)
        return cls(arrays, encoded.names)

    def take(self, rows: np.ndarray) -> RawBlock:
        return RawBlock({name: column[rows] for name, column in self.arrays.items()}, self.names)


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _zstd():
    import zstandard

    return zstandard.ZstdCompressor(level=1)


_DTYPES = {
    "id": np.int64, "request_key": np.int64, "is_error": np.bool_,
    **{name: np.float64 for name in FLOAT_COLUMNS}, **{name: np.int64 for name in INT_COLUMNS},
    **{name: np.int32 for name in TEXT_COLUMNS},
}  # fmt: skip


def raw_from_columns(columns: Sequence[Sequence], count: int) -> RawBlock:
    """A RawBlock from values given column by column in SOURCE_COLUMNS order (Python values
    as SQLite reads or the writer inserts them: None for NULL)."""
    values = dict(zip(SOURCE_COLUMNS, columns))
    arrays: dict[str, np.ndarray] = {
        "id": np.fromiter(values["id"], np.int64, count),
        "request_key": request_keys(values["request_id"], count),
        **_number_arrays(values, count),
    }
    names = _code_texts(values, count, arrays)
    return RawBlock(arrays, names)


def _number_arrays(values: dict[str, Sequence], count: int) -> dict[str, np.ndarray]:
    arrays = {"is_error": np.fromiter(map(operator.eq, values["status"], repeat("error")), np.bool_, count)}
    for name in FLOAT_COLUMNS:
        arrays[name] = np.array(values[name], dtype=np.float64).reshape(count)  # None -> NaN
    for name in INT_COLUMNS:
        column = values[name]
        if None in column:
            column = [0 if value is None else value for value in column]
        arrays[name] = np.fromiter(column, np.int64, count)
    return arrays


# The text columns with few distinct values are coded together (console.store.text_codes);
# user_id, as many as the users, is coded alone.
_JOINT_TEXTS = tuple(name for name in TEXT_COLUMNS if name != "user_id")


def _code_texts(values: dict[str, Sequence], count: int, arrays: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """The text columns coded into arrays (codes by first appearance, None as NO_VALUE);
    returns their names."""
    joint = JointCodes(len(_JOINT_TEXTS), np.int32)
    joint.add([values[name] for name in _JOINT_TEXTS], count)
    coded = {name: joint.codes(at) for at, name in enumerate(_JOINT_TEXTS)}
    alone = JointCodes(1, np.int32)
    alone.add([values["user_id"]], count)
    coded["user_id"] = alone.codes(0)
    names: dict[str, list[str]] = {}
    for name in TEXT_COLUMNS:  # in the order blocks always had them (the encoded bytes keep it)
        arrays[name], names[name] = coded[name]
    return names


def concat(blocks: Sequence[RawBlock]) -> RawBlock:
    """Blocks one after the other, their names merged (codes translated)."""
    if len(blocks) == 1:
        return blocks[0]
    arrays: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    for name in TEXT_COLUMNS:
        merged: dict[str, int] = {}
        parts = []
        for block in blocks:
            mapping = np.fromiter(
                (merged.setdefault(value, len(merged)) for value in block.names[name]), np.int32, len(block.names[name])
            )
            parts.append(mapping[block.arrays[name]] if len(mapping) else block.arrays[name])
        arrays[name] = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        names[name] = list(merged)
    for name in ("id", "request_key", "is_error", *FLOAT_COLUMNS, *INT_COLUMNS):
        arrays[name] = np.concatenate([block.arrays[name] for block in blocks])
    return RawBlock(arrays, names)


def empty_block() -> RawBlock:
    return RawBlock({name: np.zeros(0, dtype) for name, dtype in _DTYPES.items()}, {n: [] for n in TEXT_COLUMNS})


def to_columns(raw: RawBlock, spare: int = 0) -> Columns:
    """Columns of a RawBlock's rows (in id order) in (ts, id) order, as Store.load_columns
    returns them; rows logged in time order need no sort."""
    ts, ids = raw.arrays["ts"], raw.arrays["id"]
    later, same = ts[1:] > ts[:-1], ts[1:] == ts[:-1]
    in_order = bool(np.all(later | (same & (ids[1:] > ids[:-1]))))
    order = None if in_order else np.lexsort((ids, ts))
    numbers = {name: raw.arrays[name] for name in (*FLOAT_COLUMNS, *INT_COLUMNS, "request_key", "is_error")}
    codes = {_CATEGORY_OF.get(name, name): raw.arrays[name] for name in TEXT_COLUMNS}
    names = {_CATEGORY_OF.get(name, name): raw.names[name] for name in TEXT_COLUMNS}
    return Columns.from_arrays(numbers, codes, names, spare=spare, order=order)


# -- writing --------------------------------------------------------------------------------

_INSERT = "INSERT INTO column_blocks (first_id, last_id, rows, min_ts, max_ts, level, data) VALUES (?, ?, ?, ?, ?, ?, ?)"


def block_of_inserted(start: int, requests: Sequence[tuple], inserted: Iterable[int] | None) -> RawBlock:
    """The block of a batch written with ids start, start+1, ... (request tuples in
    REQUEST_COLUMNS order); inserted: the positions that were stored (None: all)."""
    rows = requests if inserted is None else [requests[i] for i in inserted]
    ids = range(start, start + len(requests)) if inserted is None else [start + i for i in inserted]
    # column by column, only the columns a block keeps (a zip(*rows) of all 23 took twice as long)
    columns = [ids, *(list(map(itemgetter(_REQUEST_INDEX[name]), rows)) for name in SOURCE_COLUMNS[1:])]
    return raw_from_columns(columns, len(rows))


def block_of_rows(rows: list, inserted: Sequence[int] | None) -> RawBlock:
    """The block of flat rows (console.store.rows.flat_rows, ids as inserted); inserted: the
    positions that were stored (None: all)."""
    count = len(rows) // ROW_WIDTH
    columns = [rows[at::ROW_WIDTH] for at in (0, *(1 + _REQUEST_INDEX[name] for name in SOURCE_COLUMNS[1:]))]
    if inserted is not None:
        pick = itemgetter(*inserted) if len(inserted) > 1 else (lambda column: (column[inserted[0]],))
        columns, count = [list(pick(column)) for column in columns], len(inserted)
    return raw_from_columns(columns, count)


def add_block(conn: sqlite3.Connection, block: RawBlock, first_id: int, last_id: int, level: int = 0) -> None:
    """Store a block covering first_id..last_id, inside the caller's write transaction."""
    ts = block.arrays["ts"]
    conn.execute(
        _INSERT, (first_id, last_id, len(block), float(ts.min()), float(ts.max()), level, block.encode())
    )


def merge_small_blocks(conn: sqlite3.Connection) -> None:
    """While the newest FAN_IN blocks share a level and their rows fit in MERGE_MAX_ROWS, merge
    them into one block of the next level (inside the caller's write transaction)."""
    while True:
        # one row back, not FAN_IN: each row fetched releases and retakes the GIL (see
        # console.store.sqlite_writer.insert_values)
        count, levels, level, rows, first_id, last_id = conn.execute(
            "SELECT count(*), count(DISTINCT level), max(level), sum(rows), min(first_id), max(last_id) "
            "FROM (SELECT first_id, last_id, rows, level FROM column_blocks ORDER BY first_id DESC LIMIT ?)",
            (FAN_IN,),
        ).fetchone()
        if count < FAN_IN or levels != 1 or rows > MERGE_MAX_ROWS:
            return
        # rows between the blocks that none of them covers (inserted without a block) would
        # be claimed by the merged block: then these stay as they are
        between = conn.execute(
            "SELECT count(*) FROM requests WHERE id >= ? AND id <= ?", (first_id, last_id)
        ).fetchone()[0]
        if between != rows:
            return
        data = conn.execute(
            "SELECT data FROM column_blocks WHERE first_id >= ? ORDER BY first_id", (first_id,)
        ).fetchall()
        merged = concat([RawBlock.decode(row[0]) for row in data])
        conn.execute("DELETE FROM column_blocks WHERE first_id >= ?", (first_id,))
        add_block(conn, merged, first_id, last_id, level + 1)


# -- reading --------------------------------------------------------------------------------


def covered_ranges(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    return conn.execute("SELECT first_id, last_id FROM column_blocks ORDER BY first_id").fetchall()


def read_blocks(
    conn: sqlite3.Connection, since_ts: float | None, before_ts: float | None, until_id: int | None
) -> list[RawBlock]:
    """The blocks that may hold rows in the range (whole blocks: the caller selects rows)."""
    where, params = _where(("max_ts >= ?", since_ts), ("min_ts < ?", before_ts), ("first_id <= ?", until_id))
    cursor = conn.execute(f"SELECT data FROM column_blocks{where} ORDER BY first_id", params)
    return [RawBlock.decode(row[0]) for row in cursor]


def select_rows(
    block: RawBlock, since_ts: float | None, before_ts: float | None, until_id: int | None
) -> RawBlock:
    keep = np.ones(len(block), np.bool_)
    ts = block.arrays["ts"]
    if since_ts is not None:
        keep &= ts >= since_ts
    if before_ts is not None:
        keep &= ts < before_ts
    if until_id is not None:
        keep &= block.arrays["id"] <= until_id
    return block if keep.all() else block.take(np.flatnonzero(keep))


def gaps(ranges: Sequence[tuple[int, int]]) -> list[tuple[int | None, int | None]]:
    """The id ranges (inclusive; None: unbounded) no block covers."""
    found: list[tuple[int | None, int | None]] = []
    low: int | None = None
    for first_id, last_id in ranges:
        if low is None or first_id > low:
            found.append((low, first_id - 1))
        low = last_id + 1
    found.append((low, None))
    return found


_SOURCE_SELECT = ", ".join(SOURCE_COLUMNS)
_GAP_CHUNK = 25_000  # rows fetched at a time from the table


def _where(*terms: tuple[str, object]) -> tuple[str, list]:
    """' WHERE a AND b' of the terms whose value is not None (an unbounded side), and their
    parameters."""
    used = [(sql, value) for sql, value in terms if value is not None]
    return (f" WHERE {' AND '.join(sql for sql, _ in used)}" if used else ""), [value for _, value in used]


def read_uncovered(
    conn: sqlite3.Connection, ranges: Sequence[tuple[int, int]], since_ts: float | None,
    before_ts: float | None, until_id: int | None,
) -> list[RawBlock]:
    """The rows in the range that no block covers, read from the table (by id: `+ts` keeps
    SQLite on the primary key rather than the ts index)."""
    found = []
    for low, high in gaps(ranges):
        if until_id is not None:
            high = until_id if high is None else min(high, until_id)
        if high is not None and low is not None and high < low:
            continue
        where, params = _where(("id >= ?", low), ("id <= ?", high), ("+ts >= ?", since_ts), ("+ts < ?", before_ts))
        cursor = conn.execute(f"SELECT {_SOURCE_SELECT} FROM requests{where} ORDER BY id", params)
        while rows := cursor.fetchmany(_GAP_CHUNK):
            found.append(raw_from_columns(list(zip(*rows)), len(rows)))
    return found


def load(
    conn: sqlite3.Connection, since_ts: float | None, before_ts: float | None, until_id: int | None,
    spare: int = 0,
) -> Columns | None:
    """The rows in the range as Store.load_columns returns them (verdicts not applied), read
    from the blocks and the rows no block covers; None when the store has no blocks. One
    read transaction: the blocks and the rows are of the same moment."""
    conn.execute("BEGIN")
    try:
        ranges = covered_ranges(conn)
        if not ranges:
            return None
        parts = [
            select_rows(block, since_ts, before_ts, until_id) for block in read_blocks(conn, since_ts, before_ts, until_id)
        ]
        parts += read_uncovered(conn, ranges, since_ts, before_ts, until_id)
    finally:
        conn.execute("COMMIT")
    parts = sorted((part for part in parts if len(part)), key=lambda part: int(part.arrays["id"][0]))
    whole = concat(parts) if parts else empty_block()
    del parts  # the blobs' memory goes before the columns are made
    return to_columns(whole, spare)


def fill_gaps(conn: sqlite3.Connection) -> int:
    """Blocks for the rows no block covers, BACKFILL_ROWS a block, inside the caller's write
    transaction (no rows can be added meanwhile); returns how many rows they hold. Made at a
    level no merge takes: they are full already."""
    filled = 0
    for low, high in gaps(covered_ranges(conn)):
        where, params = _where(("id >= ?", low), ("id <= ?", high))
        cursor = conn.execute(f"SELECT {_SOURCE_SELECT} FROM requests{where} ORDER BY id", params)
        while rows := cursor.fetchmany(BACKFILL_ROWS):
            block = raw_from_columns(list(zip(*rows)), len(rows))
            add_block(conn, block, rows[0][0], rows[-1][0], BACKFILL_LEVEL)
            filled += len(rows)
    return filled



def rebuild(conn: sqlite3.Connection) -> int:
    """Every block made again from the rows (after rows were changed behind the console's
    back), inside the caller's write transaction."""
    conn.execute("DELETE FROM column_blocks")
    return fill_gaps(conn)
