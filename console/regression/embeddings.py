"""The embedding model of `similar` assertions ([regression.embeddings] in llmops.toml): an
OpenAI-compatible /embeddings endpoint, asked for one text at a time.

    embed = EmbeddingClient(settings.regression.embeddings)
    vector = embed("the answer")          # list[float]; EmbeddingError when there is none

A suite compares many outputs with the same few references, so vectors are kept (a bounded
cache, shared by the run's threads). Like the judge, only the standard library talks HTTP.
"""

from __future__ import annotations

import math
import threading

import orjson

from console.config import EmbeddingSettings
from console.judge import post_json

CACHE_SIZE = 4096  # texts; a reference embedded once serves every case that names it


class EmbeddingError(RuntimeError):
    """The endpoint could not be reached or did not answer with an embedding."""


class EmbeddingClient:
    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self.endpoint = settings.url.rstrip("/") + "/embeddings"
        self._cache: dict[str, list[float]] = {}
        self._asking: dict[str, threading.Lock] = {}  # one request per text, however many threads want it
        self._lock = threading.Lock()

    def __call__(self, text: str) -> list[float]:
        with self._lock:
            found = self._cache.get(text)
            if found is not None:
                return found
            asking = self._asking.setdefault(text, threading.Lock())
        with asking:
            with self._lock:
                found = self._cache.get(text)
            if found is not None:  # another thread asked while this one waited
                return found
            try:
                payload = post_json(self.endpoint, {"model": self.settings.model, "input": text},
                                    api_key_env=self.settings.api_key_env, timeout_s=self.settings.timeout_s,
                                    error=EmbeddingError)  # fmt: skip
                vector = parse_embedding(payload)
                with self._lock:
                    if len(self._cache) >= CACHE_SIZE:
                        self._cache.pop(next(iter(self._cache)))
                    self._cache[text] = vector
            finally:
                with self._lock:
                    self._asking.pop(text, None)
        return vector


def parse_embedding(payload: bytes) -> list[float]:
    """data[0].embedding of an /embeddings reply: a non-empty list of finite numbers."""
    try:
        vector = orjson.loads(payload)["data"][0]["embedding"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        raise EmbeddingError(f"the reply is not an embedding: {payload[:120]!r}") from None
    if not isinstance(vector, list) or not vector or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vector
    ):
        raise EmbeddingError("the reply's embedding is not a non-empty list of numbers")
    return [float(x) for x in vector]
