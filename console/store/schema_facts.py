"""What a reader of the store needs to know of its schema without the table definitions.

The SQLModel tables (console/store/tables.py, rollup_tables.py) cost a third of a `report`
process's imports (sqlmodel, pydantic, the ORM): a command that only reads a store already
at CURRENT_VERSION opens it without them (Store(for_reading=True)). The column orders the
bulk paths insert and select are named here once; tables.py asserts its models agree.
"""

from __future__ import annotations

# console/store/migrations.py upgrades a store to this version, one step per version.
CURRENT_VERSION = 10

# `requests` after `id`, in the order request_tuple (console/store/rows.py) gives them.
REQUEST_COLUMNS: tuple[str, ...] = (
    "request_id", "ts", "model", "provider", "response_model", "prompt_id",
    "prompt_version", "input_tokens", "output_tokens", "cached_input_tokens",
    "reasoning_tokens", "latency_ms", "ttft_ms", "status", "cost_usd",
    "finish_reason", "error_type", "user_id", "session_id", "environment",
    "variant", "feedback", "prompt_hash", "estimated_cost_usd",
)  # fmt: skip
# `request_bodies`, id first, in the order body_tuple gives the rest.
BODY_COLUMNS: tuple[str, ...] = (
    "id", "input", "output", "error_message", "trace_id", "tags", "extra",
    "input_is_json", "output_is_json",
)  # fmt: skip


def stored_version_of_sqlite(conn) -> int | None:
    """A SQLite store's schema version, read with a plain sqlite3 connection (None: no
    version table, an older or a new store)."""
    found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if found is None:
        return None
    version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    return None if version is None else int(version)
