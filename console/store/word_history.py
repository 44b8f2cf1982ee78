"""The history scan of a filter with text words, on a store whose bodies are in blocks.

RequestPages.history_keys asks for up to `limit` matching rows before a (ts, id) position,
newest first. With text words SQLite would call `body_has` for every row it passes (see
console.store.block_words): here SQL reads the candidate rows, those that match the other
terms, with each word's answer for what SQL can see (request id, error type, a loose body)
and whether the body is in a block; the blocks then answer for their rows a stretch at a
time. A step reads at most SCAN_ROWS candidates, so a rare word's scan reports its progress
(the position it got to) instead of holding the pager until `limit` rows are found.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection

from console.store.block_words import BlockWords
from console.store.filter_sql import FilterSQL

FIRST_CANDIDATES = 4_096  # the first read: the newest rows, for the screen, at once
SCAN_ROWS = 131_072  # candidates a step reads at most (~0.25 s on a quiet machine for a word found nowhere)


def history_with_words(
    conn: Connection, words: BlockWords, where: FilterSQL, up_to_id: int,
    before: tuple[float, int] | None, limit: int, up_to_ts: float | None,
) -> tuple[np.ndarray, np.ndarray, tuple[float, int] | None]:
    """history_keys' answer (ids and ts ascending, and where to go on from: None when the
    oldest row was passed), which may hold fewer than `limit` rows while not at the end."""
    flags = "".join(f", COALESCE(({word.loose}), FALSE)" for word in where.words)
    conditions, params = history_conditions(up_to_id, up_to_ts, where.where_apart, where.params)
    found_ids: list[np.ndarray] = []
    found_ts: list[np.ndarray] = []
    count = scanned = 0
    want = max(FIRST_CANDIDATES, limit)
    position = before
    while True:
        cut = keyset_cut(position, params)
        want = min(want, SCAN_ROWS - scanned)
        sql = (
            f"SELECT r.id, r.ts, b.id IS NULL{flags} FROM requests r LEFT JOIN request_bodies b ON b.id = r.id "
            f"WHERE {' AND '.join(conditions + cut)} ORDER BY r.ts DESC, r.id DESC LIMIT :limit"
        )
        # the driver's rows as they are: SQLAlchemy's Row objects cost more than the read
        rows = conn.connection.dbapi_connection.execute(sql, {**params, "limit": want}).fetchall()
        scanned += len(rows)
        ids, ts, keep = _matching(rows, where, words)
        found_ids.append(ids[keep])
        found_ts.append(ts[keep])
        count += int(keep.sum())
        if count >= limit:  # go on from the last row returned
            ids_out, ts_out = np.concatenate(found_ids)[:limit], np.concatenate(found_ts)[:limit]
            return ids_out[::-1].copy(), ts_out[::-1].copy(), (float(ts_out[-1]), int(ids_out[-1]))
        if len(rows) < want:  # the oldest row was passed
            return _ascending(found_ids, found_ts) + (None,)
        position = (float(ts[-1]), int(ids[-1]))
        if scanned >= SCAN_ROWS:
            return _ascending(found_ids, found_ts) + (position,)
        # enough rows for what is missing at the rate seen, so a step's last read overshoots
        # little (its rows beyond `limit` are read again by the next step)
        rate = count / scanned
        want = min(4 * want, int((limit - count) / rate * 1.1) + 64) if rate else 4 * want


def history_conditions(
    up_to_id: int, up_to_ts: float | None, fragment: str, filter_params: dict[str, object]
) -> tuple[list[str], dict[str, object]]:
    """The conditions of a history read (rows up to an id, and a replay's moment) and the
    filter's fragment, with their parameters."""
    conditions = ["r.id <= :top"]
    params: dict[str, object] = {"top": up_to_id, **filter_params}
    if up_to_ts is not None:
        conditions.append("r.ts <= :up_to_ts")
        params["up_to_ts"] = up_to_ts
    if fragment:
        conditions.append(f"({fragment})")
    return conditions, params


def keyset_cut(position: tuple[float, int] | None, params: dict[str, object]) -> list[str]:
    """The rows just before a (ts, id) position, newest first: a range on the ts index, then
    the ties at the boundary by id (its parameters set in params)."""
    if position is None:
        return []
    params["cut_ts"], params["cut_id"] = position
    return ["r.ts <= :cut_ts AND NOT (r.ts = :cut_ts AND r.id >= :cut_id)"]


def _matching(rows, where: FilterSQL, words: BlockWords) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows' ids and ts, and which of them hold every word (and none negated)."""
    fields = [("id", np.int64), ("ts", np.float64), ("in_block", bool)] + [(f"w{n}", bool) for n in range(len(where.words))]
    table = np.fromiter(rows, np.dtype(fields), len(rows))
    ids, ts, in_block = table["id"], table["ts"], table["in_block"]
    keep = np.ones(len(rows), dtype=bool)
    for n, word in enumerate(where.words):
        hit = table[f"w{n}"].copy()
        ask = keep & in_block & ~hit  # only rows still kept, not yet matched by SQL
        if ask.any():
            hit[ask] = words.mask(word.word, ids[ask])
        keep &= ~hit if word.negated else hit
    return ids, ts, keep


def _ascending(found_ids: list[np.ndarray], found_ts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate(found_ids)[::-1].copy(), np.concatenate(found_ts)[::-1].copy()
