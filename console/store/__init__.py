"""The store: SQLModel tables, the engine, bulk ingest and queries. Nothing here imports Textual."""

from console.store.engine import StoreError, default_store_url
from console.store.store import Store
from console.store.sqlite_writer import LockRetry
from console.store.write_faults import StoreLocked
from console.store.writers import WriteResult

__all__ = ["LockRetry", "Store", "StoreError", "StoreLocked", "WriteResult", "default_store_url"]
