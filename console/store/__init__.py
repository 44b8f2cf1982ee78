"""The store: SQLModel tables, the engine, bulk ingest and queries. Nothing here imports Textual.

The names below are imported when first asked for (PEP 562): importing a module of this
package (the sqlite3 reader of `report`, console/store/sqlite_reader.py) must not import
SQLAlchemy through the Store."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.store.engine import StoreError, default_store_url
    from console.store.sqlite_writer import LockRetry
    from console.store.store import Store
    from console.store.write_faults import StoreLocked
    from console.store.writers import WriteResult

_WHERE = {
    "LockRetry": "console.store.sqlite_writer",
    "Store": "console.store.store",
    "StoreError": "console.store.engine",
    "StoreLocked": "console.store.write_faults",
    "WriteResult": "console.store.writers",
    "default_store_url": "console.store.locations",
}

__all__ = ["LockRetry", "Store", "StoreError", "StoreLocked", "WriteResult", "default_store_url"]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'console.store' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
