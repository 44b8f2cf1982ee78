"""The store: SQLModel tables, the engine, bulk ingest and queries. Nothing here imports Textual."""

from console.store.engine import StoreError, default_store_url
from console.store.store import Store
from console.store.writers import LockRetry, StoreLocked, WriteResult

__all__ = ["LockRetry", "Store", "StoreError", "StoreLocked", "WriteResult", "default_store_url"]
