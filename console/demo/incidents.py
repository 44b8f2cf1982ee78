"""When things go wrong in the Acme Helpdesk story, in the history and on the live loop.

`history_events` gives the turning points of a history (see sample_logs/README.md),
`history_conditions` what is true at one instant of it, and `timestamps` when its requests
arrive. `live_conditions` does the same for the live demo's 3-minute cycle. `timing` and
`pick_error` say how a request fares under those conditions: its latency and whether it fails.
Standard library only.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import accumulate

DEFAULT_END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
SPIKE_USER_ID = "u_9f3e07"  # the customer who pastes whole log exports into the chat
INCIDENT_MODEL = "claude-sonnet-4-5"
REQUEST_TIMEOUT_MS = 30_000  # the app's client timeout
BASE_ERRORS = (("RateLimitError", 0.0075), ("InternalServerError", 0.0065), ("APIConnectionError", 0.003),
               ("APITimeoutError", 0.0015), ("BadRequestError", 0.0007))
SLOW_ERRORS = (("InternalServerError", 0.04),)  # the provider sheds load during the latency incident
SPIKE_ERRORS = (("RateLimitError", 0.06), ("BadRequestError", 0.01))  # huge inputs hit the limits
STALL_PROBABILITY = 0.06  # during the latency incident some streams hang until the client timeout

# When things happen, in minutes after the start of the default 4-day history; other lengths
# scale these so the whole story always fits.
STORY_MINUTES = {
    "summarize_v2_rollout": 15 * 60, "v8_staging": 22 * 60,
    "latency_incident_start": 26 * 60 + 5, "latency_incident_end": 28 * 60 + 15,
    "v8_canary": 45 * 60 + 30, "v8_half": 47 * 60, "v8_full": 49 * 60,
    "cost_spike_start": 61 * 60 + 40, "cost_spike_end": 62 * 60 + 45,
    "prompt_drift_start": 80 * 60 + 40,
}
ROLLOUT = (("v8_full", 1.0), ("v8_half", 0.5), ("v8_canary", 0.1))  # share of servers on 2.15.0
SPIKE_EXTRA_TRAFFIC = 1.0  # the spike user's request rate, relative to the mean total rate

# The live demo's 3-minute cycle, in seconds: (start, end) of each incident.
LIVE_CYCLE_S = 180
LIVE_PHASES = {"latency_incident": (20, 60), "v8_release": (75, 150), "cost_spike": (110, 140),
               "prompt_drift": (90, 180)}
LIVE_SPIKE_SHARE = 0.3


@dataclass(frozen=True)
class Conditions:
    """What is true of the world at one instant of the story."""

    new_release_share: float = 0.0  # share of production servers on 2.15.0 (support-answer v8)
    staging_release: bool = True  # staging runs the 2.15.0 release candidate
    summarize_version: str = "v2"
    slow_model: str | None = None  # the model in a latency incident
    spike_share: float = 0.0  # chance that a request comes from the spike user
    drifted: bool = False  # summarize-thread v2 hot-edited in eu-west-1


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def to_ms(moment: datetime) -> int:
    return math.floor(utc(moment).timestamp() * 1000)


def history_events(end: datetime | None = None, days: float = 4.0) -> dict[str, datetime]:
    """The story's turning points for a history ending at `end` (see sample_logs/README.md)."""
    end = utc(end or DEFAULT_END)
    start = end - timedelta(days=days)
    return {name: start + timedelta(minutes=minutes * days / 4.0) for name, minutes in STORY_MINUTES.items()}


def diurnal(ms: float) -> float:
    """Relative traffic: busiest at 15:00 UTC when Europe and America overlap."""
    hour = ms / 3_600_000 % 24
    return 1.0 + 0.75 * math.cos(2 * math.pi * (hour - 15) / 24)


def in_spike(ms: float, ev: dict[str, int]) -> bool:
    return ev["cost_spike_start"] <= ms < ev["cost_spike_end"]


def history_conditions(ms: int, ev: dict[str, int]) -> Conditions:
    """The conditions at `ms` of a history whose events (epoch ms) are `ev`."""
    return Conditions(
        new_release_share=next((share for key, share in ROLLOUT if ms >= ev[key]), 0.0),
        staging_release=ms >= ev["v8_staging"],
        summarize_version="v2" if ms >= ev["summarize_v2_rollout"] else "v1",
        slow_model=INCIDENT_MODEL if ev["latency_incident_start"] <= ms < ev["latency_incident_end"] else None,
        spike_share=SPIKE_EXTRA_TRAFFIC / (diurnal(ms) + SPIKE_EXTRA_TRAFFIC) if in_spike(ms, ev) else 0.0,
        drifted=ms >= ev["prompt_drift_start"],
    )


def timestamps(rng: random.Random, n: int, start_ms: int, end_ms: int, ev: dict[str, int]) -> list[int]:
    """n sorted times drawn from the diurnal traffic curve plus the spike user's burst."""
    bucket_ms = 60_000
    edges = list(range(start_ms, end_ms, bucket_ms)) + [end_ms]
    weights = []
    for lo, hi in zip(edges, edges[1:]):
        rate = diurnal((lo + hi) / 2) + (SPIKE_EXTRA_TRAFFIC if in_spike(lo, ev) else 0.0)
        weights.append(rate * (hi - lo))
    cum = list(accumulate(weights))
    stamps = []
    for u in sorted(rng.random() for _ in range(n)):
        x = u * cum[-1]
        i = min(bisect_left(cum, x), len(cum) - 1)
        below = cum[i - 1] if i else 0.0
        fraction = (x - below) / (cum[i] - below)
        stamps.append(min(end_ms - 1, math.floor(edges[i] + fraction * (edges[i + 1] - edges[i]))))
    return stamps


def live_conditions(seconds_into_cycle: float) -> Conditions:
    """The live demo: a latency incident on claude-sonnet-4-5, release 2.15.0 with
    support-answer v8 rolled out then rolled back, a cost spike from one user, and
    summarize-thread v2 drifting (phases in LIVE_PHASES)."""
    active = {name for name, (lo, hi) in LIVE_PHASES.items() if lo <= seconds_into_cycle < hi}
    return Conditions(
        new_release_share=1.0 if "v8_release" in active else 0.0,
        slow_model=INCIDENT_MODEL if "latency_incident" in active else None,
        spike_share=LIVE_SPIKE_SHARE if "cost_spike" in active else 0.0,
        drifted="prompt_drift" in active,
    )


def timing(rng: random.Random, ttft_ms: float, tokens_per_s: float, input_tokens: int, output_tokens: int,
           reasoning_tokens: int, slow: bool) -> tuple[float, float]:
    """(ttft_ms, latency_ms) for a model with median `ttft_ms` and decode speed `tokens_per_s`:
    queueing + prefill, hidden reasoning, then the visible tokens; `slow` is the incident."""
    ttft = ttft_ms * rng.lognormvariate(0, 0.35) + input_tokens / 30
    speed = tokens_per_s * rng.lognormvariate(0, 0.2)
    if slow:
        ttft *= rng.lognormvariate(math.log(4), 0.7)
        speed *= 0.5
        if rng.random() < STALL_PROBABILITY:
            ttft += REQUEST_TIMEOUT_MS
    ttft += reasoning_tokens / speed * 1000
    return ttft, ttft + (output_tokens - reasoning_tokens) / speed * 1000 + rng.uniform(15, 60)


def pick_error(rng: random.Random, slow: bool, spike: bool, latency_ms: float) -> str | None:
    """The SDK exception a request ends with, if any."""
    extra = (SLOW_ERRORS if slow else ()) + (SPIKE_ERRORS if spike else ())
    for error_type, probability in BASE_ERRORS + extra:
        if rng.random() < probability:
            return error_type
    return "APITimeoutError" if latency_ms > REQUEST_TIMEOUT_MS else None
