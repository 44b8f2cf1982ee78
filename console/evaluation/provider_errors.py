"""Provider errors: failures of the provider, not answers to judge (rate limits, 5xx, timeouts,
dropped connections).

The triage queue lists answers a human must judge. A 429 or a 529 says nothing about the
prompt or the model's answer, and in an outage thousands of them would bury the few answers
that matter, so the scoring loop leaves them unscored and the queue shows them as one line
per (model, error type) with a count (`group_errors`). They are told apart by the logged
error_type (the SDK's exception name or the provider's code): an error whose type says
nothing of the kind (a 400, a content filter, an application's own error) stays in the queue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from console.records import RequestRecord

# (what it is, how its error_type reads); the first that matches names it
_KINDS = (
    ("rate limit", re.compile(r"rate.?limit|too.?many.?requests|\b429\b|quota", re.IGNORECASE)),
    ("timeout", re.compile(r"time.?out|timed.?out|deadline|\b408\b|\b504\b", re.IGNORECASE)),
    ("overloaded", re.compile(r"overload|\b529\b|unavailable|\b503\b", re.IGNORECASE)),
    ("server error", re.compile(r"internal.?server|server.?error|\b5\d\d\b|bad.?gateway", re.IGNORECASE)),
    ("connection", re.compile(r"connection|connect.?error|network", re.IGNORECASE)),
)


def provider_error_kind(error_type: str | None) -> str | None:
    """'rate limit', 'timeout', 'overloaded', 'server error', 'connection', or None (not a
    provider error: the request is judged like any other)."""
    if not error_type:
        return None
    for kind, pattern in _KINDS:
        if pattern.search(error_type):
            return kind
    return None


def is_provider_error(record: RequestRecord) -> bool:
    return record.status == "error" and provider_error_kind(record.error_type) is not None


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """One line of the queue: a model's provider errors of one type."""

    model: str
    error_type: str
    kind: str  # provider_error_kind(error_type)
    count: int
    last_ts: float

    @property
    def key(self) -> str:
        return f"provider-errors:{self.model}:{self.error_type}"


def group_errors(counts: Iterable[tuple[str, str, int, float]]) -> list[ErrorGroup]:
    """The provider errors among (model, error_type, count, newest ts) rows, most first."""
    groups = [
        ErrorGroup(model, error_type, kind, count, last_ts)
        for model, error_type, count, last_ts in counts
        if (kind := provider_error_kind(error_type)) is not None
    ]
    return sorted(groups, key=lambda g: (-g.count, g.model, g.error_type))
