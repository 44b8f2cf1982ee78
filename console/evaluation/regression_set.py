"""A regression case made from a response marked bad in triage (appended to the cases file by
console.cases.file):

    cases = CaseFile(writable_cases_path(settings))
    cases.append(case_from_record(record, reason="hallucination", who="ana"))  # False if there

A case made from a bad response has a stable id ("req-" + request_id), the input as logged
(chat messages, template variables or text), the bad output, a default assertion that the
output is not the bad one, the reason as a tag, and its provenance in `source`.
"""

from __future__ import annotations

import re

from console.cases.format import Assertion, CaseInput, Message, RegressionCase, Source
from console.formatting import rfc3339
from console.records import RequestRecord, text_of


def case_id_for(request_id: str) -> str:
    return f"req-{request_id}"


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
) -> RegressionCase:
    bad_output = text_of(record.output) if record.output is not None else None
    what = f"{record.prompt_id}@{record.prompt_version} on {record.model}"
    description = f"Marked bad in triage ({reason})" if reason else "Marked bad in triage"
    if record.status == "error":
        description += f"; the request failed: {record.error_type or 'error'}"
    return RegressionCase(
        id=case_id_for(record.request_id),
        description=f"{description}: {what}" + (f". {note}" if note else ""),
        input=case_input(record),
        assert_=[
            Assertion(
                type="not-equals",
                value=bad_output or "",
                description="must not repeat the response marked bad",
            )
        ],
        tags=["triage", tag_of(reason)] if reason else ["triage"],
        source=Source(
            kind="triage", request_id=record.request_id, prompt_id=record.prompt_id,
            prompt_version=record.prompt_version, model=record.model, ts=rfc3339(float(record.ts), timespec="seconds"),
            bad_output=bad_output, reason=reason, note=note, who=who, when=rfc3339(when, timespec="seconds"),
        ),  # fmt: skip
    )
