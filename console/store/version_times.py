"""When each prompt version was live: its first and last request in everything the store holds.

The prompts screen (`p`) showed a first seen from the loaded history and a last seen from the
window, so a version retired before the window read '-' beside a store full of its requests.
The day rollup cells hold every request's (console/store/rollups.py writes the minute, hour
and day cells of each batch in its transaction) with their first and last ts exactly: one
GROUP BY over a few cells a version a day, however many rows the store has.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.analytics.rollup import DAY
from console.store.rollups import Db


@dataclass(frozen=True)
class VersionTimes:
    first_ts: float
    last_ts: float
    requests: int


def version_times(store) -> dict[tuple[str, str], VersionTimes]:
    """(prompt_id, prompt_version) -> its first and last request's ts and how many it served,
    over all the store's requests."""
    query = (
        "SELECT prompt_id, prompt_version, min(min_ts), max(max_ts), sum(requests) FROM rollups "
        f"WHERE span = {DAY} GROUP BY prompt_id, prompt_version"
    )
    with store.engine.connect() as conn:
        rows = Db(conn).rows(query)
    return {(prompt, version): VersionTimes(float(first), float(last), int(count))
            for prompt, version, first, last, count in rows}  # fmt: skip
