"""The regression case, schema v1 (schemas/regression-case.v1.schema.json), as msgspec types.

One format for the two sides that meet here: the triage queue appends cases from bad
production responses, and the runner reads them. tests/test_case_format.py keeps this
module and the schema file in agreement.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

ASSERTION_KINDS = (
    "equals", "contains", "icontains", "contains-any", "contains-all", "icontains-any", "icontains-all",
    "starts-with", "regex", "is-json", "contains-json", "levenshtein", "latency", "cost", "python",
    "llm-rubric", "similar", "is-refusal", "finish-reason", "assert-set", "javascript",
)  # fmt: skip
# Accepted so a promptfoo case loads, but never run here: a verdict says why (console.regression.checks).
REFUSED_KINDS = ("javascript",)
_ASSERTION_PATTERN = rf"^(not-)?({'|'.join(ASSERTION_KINDS)})$"


class Message(msgspec.Struct, kw_only=True, omit_defaults=True):
    role: Annotated[str, msgspec.Meta(min_length=1)]
    content: Any


class CaseInput(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    vars: dict[str, Any] | None = None
    messages: list[Message] | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if self.vars is None and self.messages is None and self.text is None:
            raise ValueError("input needs vars, messages or text")


class Assertion(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """One check; the keys are promptfoo's (metric, config, normalizeUnicode, transform, and
    assert for an assert-set), so a promptfoo assertion reads the same here."""

    type: Annotated[str, msgspec.Meta(pattern=_ASSERTION_PATTERN)]
    value: Any = None
    threshold: float | None = None
    weight: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    description: str | None = None
    metric: str | None = None  # a name for the score (kept; reports may group by it)
    config: dict[str, Any] | None = None  # handed to python assertions as context["config"]
    normalize_unicode: bool | Literal["NFC", "NFD", "NFKC", "NFKD"] | None = msgspec.field(default=None, name="normalizeUnicode")
    transform: str | None = None  # promptfoo's JavaScript transform: refused when checked (no JS here)
    assert_: list[Assertion] | None = msgspec.field(default=None, name="assert")  # assert-set members

    @property
    def negated(self) -> bool:
        return self.type.startswith("not-")

    @property
    def kind(self) -> str:
        return self.type.removeprefix("not-")


class Source(msgspec.Struct, kw_only=True, omit_defaults=True):
    kind: Literal["triage", "manual", "import"] | None = None
    request_id: str | None = None
    prompt_id: str | None = None
    prompt_version: str | None = None
    model: str | None = None
    ts: str | None = None
    bad_output: str | None = None
    reason: str | None = None
    note: str | None = None
    who: str | None = None
    when: str | None = None


class RegressionCase(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(min_length=1)]
    input: CaseInput
    assert_: list[Assertion] = msgspec.field(name="assert")
    description: str | None = None
    expected_output: str | None = None
    # any number, as promptfoo's TestCase (`threshold: z.number().optional()`): 0 passes any
    # failure, above 1 needs python scores above 1 (console.regression.assertions.decide)
    threshold: float | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    repeat: Annotated[int, msgspec.Meta(ge=1)] = 1
    status: Literal["active", "archived"] = "active"
    source: Source | None = None


_decoder = msgspec.json.Decoder(RegressionCase)
_encoder = msgspec.json.Encoder()


class CaseError(ValueError):
    """A case line that is not a valid schema v1 case; the message says why."""


def parse_case(line: bytes | str) -> RegressionCase:
    try:
        return _decoder.decode(line)
    except msgspec.ValidationError as exc:
        raise CaseError(str(exc).replace("`", "'").replace("$.", "")) from None
    except msgspec.DecodeError as exc:
        raise CaseError(f"invalid JSON: {exc}") from None


def case_to_json(case: RegressionCase) -> bytes:
    """One line (without the newline), keys in schema order."""
    return _encoder.encode(case)
