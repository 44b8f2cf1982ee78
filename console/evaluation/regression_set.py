"""A regression case made from a response marked bad in triage (appended to the cases file by
console.cases.file):

    cases = CaseFile(writable_cases_path(settings))
    cases.append(case_from_record(record, reason="hallucination", who="ana"))  # False if there

A case made from a bad response has a stable id (the request_id, "req-" before it when it
does not start so already), the input as logged (chat messages, template variables or text),
the bad output, assertions that test the failure the reason names, the reason as a tag, and
its provenance in `source`. The assertions (`assertions_for`), by the reason's words:

| reason | assertions |
|---|---|
| too slow, slow, latency | `latency` at the model's SLO (llmops.toml [[slos]]; without one, or when the request was within it, half the latency seen) |
| truncated, cut off | `not-finish-reason` of the finish reason logged (length): the answer must be complete |
| refusal, refused | `not-icontains` the refusal's words (`not-is-refusal` when none is recognised) |
| anything else (wrong answer, hallucination, …) | `not-equals` the bad output, and a `contains` placeholder of weight 0 to edit (`e`) |

A request that failed (status error) keeps the `not-equals ""` of before: an answer at all.
"""

from __future__ import annotations

import re
from typing import Sequence

from console.cases.format import Assertion, CaseInput, Message, RegressionCase, Source
from console.evaluation.scorers import TRUNCATED_REASONS, refusal_phrase
from console.formatting import rfc3339
from console.records import RequestRecord, text_of


def case_id_for(request_id: str) -> str:
    """'req_7f3a' -> 'req_7f3a' (not 'req-req_7f3a'); '7f3a' -> 'req-7f3a'."""
    return request_id if request_id.startswith(("req_", "req-")) else f"req-{request_id}"


def legacy_case_id(request_id: str) -> str:
    """The id cases made before case_id_for stopped doubling the prefix ('req-req_7f3a')."""
    return f"req-{request_id}"


SLOW_WORDS = ("slow", "latency", "timeout", "timed out")
TRUNCATED_WORDS = ("truncat", "cut off", "cut-off", "incomplete", "length")
REFUSAL_WORDS = ("refus", "declin")
PLACEHOLDER = "EDIT ME: words the right answer contains"


def _names(reason: str | None, *words: str) -> bool:
    return reason is not None and any(word in reason.lower() for word in words)


def assertions_for(
    record: RequestRecord,
    reason: str | None,
    slo_ms: float | None = None,
    refusal_phrases: Sequence[str] = (),
) -> list[Assertion]:
    """The assertions a case marked bad for `reason` gets (the table in the module docstring)."""
    bad_output = text_of(record.output) if record.output is not None else ""
    if _names(reason, *SLOW_WORDS):
        seen = record.latency_ms
        if slo_ms is not None and seen > slo_ms:
            limit, why = float(slo_ms), f"the {record.model} SLO"
        elif slo_ms is not None:  # slow to the human though within the SLO: the SLO would pass it again
            limit, why = round(seen / 2), f"half the {seen:,.0f} ms seen (within the {slo_ms:,.0f} ms SLO of {record.model})"
        else:
            limit, why = round(seen / 2), f"half the {seen:,.0f} ms seen (no SLO for {record.model})"
        return [Assertion(type="latency", threshold=limit, description=f"must answer within {limit:,.0f} ms: {why}")]
    if _names(reason, *TRUNCATED_WORDS) or (reason is None and (record.finish_reason or "").lower() in TRUNCATED_REASONS):
        finish = record.finish_reason if (record.finish_reason or "").lower() in TRUNCATED_REASONS else "length"
        return [Assertion(type="not-finish-reason", value=finish,
                          description=f"the answer must be complete (it stopped with finish_reason {finish})")]  # fmt: skip
    if _names(reason, *REFUSAL_WORDS) and bad_output:
        phrase = refusal_phrase(bad_output, refusal_phrases)
        if phrase:
            return [Assertion(type="not-icontains", value=phrase, description="must not refuse as the response marked bad did")]
        return [Assertion(type="not-is-refusal", description="must not refuse")]
    found = [Assertion(type="not-equals", value=bad_output, description="must not repeat the response marked bad")]
    if record.status != "error":
        found.append(Assertion(type="contains", value=PLACEHOLDER, weight=0.0,
                               description="edit (e): what the right answer says, then set weight 1"))  # fmt: skip
    return found


def tag_of(reason: str) -> str:
    """'wrong answer' -> 'wrong-answer'."""
    return re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-") or "other"


def case_input(record: RequestRecord) -> CaseInput:
    """The input as logged: chat messages, template variables (an object), or text."""
    value = record.input
    if isinstance(value, str):
        return CaseInput(text=value)
    if isinstance(value, dict):
        return CaseInput(vars=value)
    if isinstance(value, list) and value and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and m["role"] and "content" in m for m in value
    ):
        return CaseInput(messages=[Message(role=m["role"], content=m["content"]) for m in value])
    return CaseInput(text=text_of(value))


def case_from_record(
    record: RequestRecord,
    *,
    reason: str | None = None,
    note: str | None = None,
    who: str | None = None,
    when: float,
    slo_ms: float | None = None,
    refusal_phrases: Sequence[str] = (),
) -> RegressionCase:
    """slo_ms: the latency a request of this model must stay under (a 'too slow' case's limit)."""
    bad_output = text_of(record.output) if record.output is not None else None
    what = f"{record.prompt_id}@{record.prompt_version} on {record.model}"
    description = f"Marked bad in triage ({reason})" if reason else "Marked bad in triage"
    if record.status == "error":
        description += f"; the request failed: {record.error_type or 'error'}"
    return RegressionCase(
        id=case_id_for(record.request_id),
        description=f"{description}: {what}" + (f". {note}" if note else ""),
        input=case_input(record),
        assert_=assertions_for(record, reason, slo_ms, refusal_phrases),
        tags=["triage", tag_of(reason)] if reason else ["triage"],
        source=Source(
            kind="triage", request_id=record.request_id, prompt_id=record.prompt_id,
            prompt_version=record.prompt_version, model=record.model, ts=rfc3339(float(record.ts), timespec="seconds"),
            bad_output=bad_output, reason=reason, note=note, who=who, when=rfc3339(when, timespec="seconds"),
        ),  # fmt: skip
    )
