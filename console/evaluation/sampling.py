"""Which requests get scored: a deterministic sample plus rules that always include.

A request's place in the sample depends on its request_id alone: blake2b of the id, read as
a number in [0, 1), is compared with the configured rate. So a request is in or out of the
sample forever, whichever process decides, and raising the rate only adds requests.

Whatever the rate, these are always included: errors, negative user feedback, latency over
the SLO of the request's model, and prompts under watch (`evaluation.watch_prompts`, each
"prompt_id" or "prompt_id@version").
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Protocol

from console.config import EvaluationSettings, Slo

_SCALE = float(1 << 64)


class SampleFields(Protocol):
    """What sampling reads: a RequestRecord, or a store row with these columns."""

    request_id: str
    status: str
    feedback: float | None
    latency_ms: float
    model: str
    prompt_id: str
    prompt_version: str


def sample_point(request_id: str) -> float:
    """The request's fixed point in [0, 1): uniform over ids, the same in every process."""
    digest = hashlib.blake2b(request_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def in_sample(request_id: str, rate: float) -> bool:
    return sample_point(request_id) < rate


def slo_limit_ms(slos: Iterable[Slo], model: str) -> float | None:
    """The latency one request must stay under: the tightest SLO for its model, else for all.

    An SLO is a percentile target; for one request, "over the SLO" means over its max_ms.
    """
    own = [slo.max_ms for slo in slos if slo.model == model]
    if own:
        return min(own)
    shared = [slo.max_ms for slo in slos if slo.model is None]
    return min(shared) if shared else None


def prompt_matches(patterns: Iterable[str], prompt_id: str, prompt_version: str) -> bool:
    """'support-answer' matches every version; 'support-answer@v8' only v8."""
    ref = f"{prompt_id}@{prompt_version}"
    return any(pattern == prompt_id or pattern == ref for pattern in patterns)


class Sampler:
    def __init__(self, settings: EvaluationSettings, slos: Iterable[Slo] = ()) -> None:
        self.rate = settings.sample_rate
        self.watch = tuple(settings.watch_prompts)
        self.slos = tuple(slos)

    def reason(self, record: SampleFields) -> str | None:
        """Why the request is scored ("error", "negative feedback", "over SLO", "watched",
        "sampled"), or None when it is not."""
        if record.status == "error":
            return "error"
        feedback = record.feedback
        if feedback is not None and not isinstance(feedback, str) and feedback < 0:
            return "negative feedback"
        limit = slo_limit_ms(self.slos, record.model)
        if limit is not None and record.latency_ms > limit:
            return "over SLO"
        if self.watch and prompt_matches(self.watch, record.prompt_id, record.prompt_version):
            return "watched"
        if in_sample(record.request_id, self.rate):
            return "sampled"
        return None

    def __call__(self, record: SampleFields) -> bool:
        return self.reason(record) is not None
