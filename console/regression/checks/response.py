"""Checks on how the target answered rather than what: latency, cost and finish-reason. The
limit is the assertion's threshold, as in promptfoo (a number as the value works too). A figure
the target did not report fails the assertion, negated or not."""

from __future__ import annotations

from typing import Any

from console.regression.checks.base import Broken, Check, Given, check, is_number


def _limit(value: Any, given: Given, what: str) -> float:
    a = given.assertion
    limit = a.threshold if a.threshold is not None else value
    if not is_number(limit):
        raise Broken(f"{a.kind} needs a threshold ({what})")
    return float(limit)


def latency(value: Any, given: Given) -> Check:
    limit = _limit(value, given, "max milliseconds")
    if given.out.latency_ms is None:
        raise Broken("no latency measured")
    return check(given.out.latency_ms <= limit, f"latency {given.out.latency_ms:,.0f} ms (max {limit:,.0f})")


def cost(value: Any, given: Given) -> Check:
    limit = _limit(value, given, "max USD")
    if given.out.cost_usd is None:
        raise Broken("the target reported no cost_usd")
    # six decimals, not console.formatting.usd's two significant digits: a cost just over its
    # limit must not read the same as the limit
    return check(given.out.cost_usd <= limit, f"cost ${given.out.cost_usd:.6f} (max ${limit:.6f})")


def finish_reason_of(raw: Any) -> str | None:
    """The finish reason in a target's reply: finish_reason (or promptfoo's finishReason), or a
    chat completion's choices[0].finish_reason."""
    if not isinstance(raw, dict):
        return None
    for key in ("finish_reason", "finishReason"):
        if isinstance(raw.get(key), str):
            return raw[key]
    choices = raw.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        found = choices[0].get("finish_reason")
        return found if isinstance(found, str) else None
    return None


def finish_reason(value: Any, given: Given) -> Check:
    if not isinstance(value, str) or not value:
        raise Broken("finish-reason needs a string value (stop, length, tool_calls, …)")
    found = finish_reason_of(given.out.raw)
    if not found:
        raise Broken("the target did not supply a finish reason")
    same = found.lower() == value.lower()
    return check(same, f"finish reason {found!r}" + ("" if same else f", expected {value!r}"))
