"""The `/` filter's text words over a store's whole history, as the requests pager steps it.

    python bench/word_search.py STORE LOG [--words zzz-nowhere,refund,"status:error timeout"]

For each filter, the console's scan (RequestPages.history_keys from the newest row until the
oldest, in the pager's step sizes: console.live.requests_pager) against, in the same run, `grep
-c -i -F WORD LOG` over the log the store was loaded from (a case-insensitive search of the
same text, no store at all) and, when DuckDB is installed and --duckdb FILE holds the log's
table (bench/peers.py --keep makes one), DuckDB's `count(*)` of the rows whose request id,
output, input, error message or error type holds the word (ILIKE; its input, a list of structs,
cast to text). Prints seconds and the console's time over each peer's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def console_scan(store_url: str, text: str) -> tuple[int, float, float]:
    """Rows found, seconds to the first step's answer, seconds to the end."""
    from console.analytics.filters import parse_filter
    from console.live.requests_pager import FIRST_STRETCH, HISTORY_STRETCH
    from console.store import Store
    from console.store.pages import RequestPages

    with Store(store_url) as store:
        pages = RequestPages(store.engine)
        start = time.perf_counter()
        where = pages.compile(parse_filter(text), indexed=True)
        top, before, found, first = pages.max_id(), None, 0, None
        while True:
            ids, _, before = pages.history_keys(where, top, before, FIRST_STRETCH if first is None else HISTORY_STRETCH)
            first = time.perf_counter() - start if first is None else first
            found += len(ids)
            if before is None:
                return found, first, time.perf_counter() - start


def grep_count(log: Path, word: str) -> tuple[int, float]:
    start = time.perf_counter()
    done = subprocess.run(["grep", "-c", "-i", "-F", word, str(log)], capture_output=True, text=True)
    return int(done.stdout.strip() or 0), time.perf_counter() - start


def duckdb_count(path: Path, word: str) -> tuple[int, float] | None:
    try:
        import duckdb
    except ImportError:
        return None
    conn = duckdb.connect(str(path), read_only=True)
    start = time.perf_counter()
    (count,) = conn.execute(
        "SELECT count(*) FROM requests WHERE request_id ILIKE ? OR CAST(output AS VARCHAR) ILIKE ? "
        "OR CAST(input AS VARCHAR) ILIKE ? OR CAST(error_message AS VARCHAR) ILIKE ? OR error_type ILIKE ?",
        [f"%{word}%"] * 5,
    ).fetchone()  # fmt: skip
    seconds = time.perf_counter() - start
    conn.close()
    return count, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", help="the store (a file path or SQLAlchemy URL)")
    parser.add_argument("log", type=Path, help="the JSONL log it was loaded from (grep's side)")
    parser.add_argument("--words", default="zzz-nowhere,refund,status:error timeout")
    parser.add_argument("--duckdb", type=Path, help="a DuckDB file with the log's requests table")
    args = parser.parse_args()
    url = args.store if "://" in args.store else f"sqlite:///{args.store}"
    for text in args.words.split(","):
        found, first, whole = console_scan(url, text)
        word = [t for t in text.split() if ":" not in t and not t.startswith("-")][-1]
        grep_found, grep_s = grep_count(args.log, word)
        line = (f"{text!r}: console {found:,} rows, first step {first:.2f} s, whole history {whole:.2f} s; "
                f"grep -ci {word!r} {grep_found:,} lines {grep_s:.2f} s (console {whole / grep_s:.1f}x)")  # fmt: skip
        duck = duckdb_count(args.duckdb, word) if args.duckdb else None
        if duck is not None:
            line += f"; DuckDB ILIKE {duck[0]:,} rows {duck[1]:.2f} s (console {whole / duck[1]:.1f}x)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
