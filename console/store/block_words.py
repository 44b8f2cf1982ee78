"""The `/` filter's text words over the bodies kept in blocks, a block at a time.

The history scan asked SQLite for `body_has(id, word)` row after row: at a million rows,
1.4 s of calls from SQLite into Python alone, and every text of every block lowered, so a
word found nowhere showed nothing for 6 s (10M rows: a minute). The scan now reads its
candidate rows with the other terms in SQL (console.store.word_history) and asks here, for a
stretch of ids at once, which of them a block holds with the word.

A block whose decompressed bytes, ASCII-lowered, hold none of the word's spellings is passed
over without decoding its texts. A spelling is the word with each character replaced by one
that lowers to it (console.store.word_spellings: "café" is also "cafÉ", "k" also the Kelvin
sign), its ASCII letters left lower-case as the bytes are lowered. Any block the bytes cannot
rule out is searched text by text as BlockReader.has does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict

import numpy as np

from console.store.body_blocks import decode_raw, decompress, searched_texts
from console.store.word_spellings import byte_spellings, lowers_into_two

# the UTF-8 of İ, whose str.lower() is two characters ("i" and U+0307), so no spelling of a
# word holding either is whole
_DOTTED_I = "\u0130".encode()


class BlockWords:
    """Which rows of one SQLite file's body blocks hold a word, on a connection of its own
    (blocks never change once written: a row the caller's snapshot saw without a loose body
    has its block committed)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._decoded: OrderedDict[int, tuple[np.ndarray, list[list]]] = OrderedDict()
        self._without: OrderedDict[tuple[int, str], None] = OrderedDict()  # (block, word) ruled out

    def mask(self, word: str, ids: np.ndarray) -> np.ndarray:
        """For each of these ids (rows whose body is in a block, any order), whether its
        output, input or error message, lower-cased, holds the (lower-case) word."""
        found = np.zeros(len(ids), dtype=bool)
        if not len(ids):
            return found
        order = np.argsort(ids, kind="stable")
        wanted = ids[order]
        with self._lock:
            firsts, lasts = self._directory(int(wanted[0]), int(wanted[-1]))
            low = np.searchsorted(wanted, firsts, "left")
            high = np.searchsorted(wanted, lasts, "right")
            hit = np.zeros(len(wanted), dtype=bool)
            # blocks may overlap (gathered loose bodies have sparse ids): every block whose
            # range covers some of the ids answers for the ids it holds
            for first_id, start, end in zip(firsts.tolist(), low.tolist(), high.tolist()):
                if end > start:
                    hit[start:end] |= self._block_mask(first_id, word, wanted[start:end])
        found[order] = hit
        return found

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        return self._conn

    def _directory(self, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
        """first_id and last_id of the blocks that may hold ids in [low, high]."""
        rows = self._connection().execute(
            "SELECT first_id, last_id FROM body_blocks WHERE first_id <= ? ORDER BY first_id", (high,)
        ).fetchall()
        firsts = np.fromiter((row[0] for row in rows), np.int64, len(rows))
        lasts = np.fromiter((row[1] for row in rows), np.int64, len(rows))
        reaching = lasts >= low
        return firsts[reaching], lasts[reaching]

    def _block_mask(self, first_id: int, word: str, wanted: np.ndarray) -> np.ndarray:
        """Which of the wanted ids (ascending) the block holds with the word: only their
        texts are lowered and searched (a status term may leave a few rows of each block)."""
        answer = np.zeros(len(wanted), dtype=bool)
        if (first_id, word) in self._without:
            self._without.move_to_end((first_id, word))
            return answer
        block = self._decoded.get(first_id)
        if block is None:
            found = self._connection().execute(
                "SELECT data FROM body_blocks WHERE first_id = ?", (first_id,)
            ).fetchone()
            if found is None:
                return answer
            raw = decompress(found[0])
            if _rules_out(raw, word):
                _keep(self._without, (first_id, word), None, WORDS_RULED_OUT_KEPT)
                return answer
            block = _keep(self._decoded, first_id, decode_raw(raw), DECODED_KEPT)
        else:
            self._decoded.move_to_end(first_id)
        ids, columns = block
        at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
        texts = searched_texts(columns)
        for i in np.flatnonzero(ids[at] == wanted).tolist():
            row = int(at[i])
            # a text holding the word as written needs no lowered copy (the costly part)
            answer[i] = any(
                value and (word in value or word in value.lower()) for value in (texts[0][row], texts[1][row], texts[2][row])
            )
        return answer

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._decoded.clear()
            self._without.clear()


DECODED_KEPT = 8  # blocks kept decoded: a step's last read is read again by the next step
WORDS_RULED_OUT_KEPT = 4096


def _keep(cache: OrderedDict, key, value, most: int):
    cache[key] = value
    while len(cache) > most:
        cache.popitem(last=False)
    return value


def _rules_out(raw: bytes, word: str) -> bool:
    """Whether a block's decompressed bytes show that none of its texts holds the word."""
    spellings = byte_spellings(word)
    if spellings is None or (lowers_into_two(word) and _DOTTED_I in raw):
        return False
    lowered = raw.lower()
    return not any(spelling in lowered for spelling in spellings)
