"""Whether a span failed, and one canonical error type per failure whatever the source.

The same 429 reaches us as "<class 'openai.RateLimitError'>" (openai-v2), "RateLimitError"
in error.type beside "openai.RateLimitError" in the exception event (OpenLLMetry), the
exception event alone (OpenInference) or a bare class name (Logfire's stream log). The
canonical form is the fully qualified class name, "openai.RateLimitError": the exception
event's type when it names the same class, else the bare name qualified by the SDK module
when the provider's SDK is known to define that class, else the name as written.
"""

from __future__ import annotations

import re
from typing import Any

from console.sources.otel.encoding import as_dict, as_list, attributes_of

_STATUS_ERROR = (2, "STATUS_CODE_ERROR", "ERROR")
_CLASS_REPR = re.compile(r"^<(?:class|type) '([^']+)'>$")
# The exception classes the openai and anthropic SDKs share (anthropic adds OverloadedError).
SDK_ERRORS = frozenset({
    "APIError", "APIConnectionError", "APITimeoutError", "APIStatusError", "APIResponseValidationError",
    "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError", "ConflictError",
    "UnprocessableEntityError", "RateLimitError", "InternalServerError", "OverloadedError",
    "ContentFilterFinishReasonError", "LengthFinishReasonError",
})  # fmt: skip
# gen_ai.provider.name (or the older gen_ai.system / llm.system) -> the SDK's module.
SDK_MODULES = {"openai": "openai", "azure.ai.openai": "openai", "az.ai.openai": "openai", "anthropic": "anthropic"}


def read_status(span: dict, attrs: dict, fields: dict) -> None:
    """status, error_type and error_message of a span (error.type and the exception event)."""
    code = as_dict(span.get("status")).get("code")
    error_type = attrs.pop("error.type", None)
    failed = code in _STATUS_ERROR or bool(error_type)
    fields["status"] = "error" if failed else "ok"
    if not failed:
        return
    exception = next(
        (attributes_of(e) for e in as_list(span.get("events")) if isinstance(e, dict) and e.get("name") == "exception"),
        {},
    )
    canonical = canonical_error_type(error_type, exception.get("exception.type"), fields.get("provider"))
    if canonical:
        fields["error_type"] = canonical
    message = as_dict(span.get("status")).get("message") or exception.get("exception.message")
    if message:
        fields["error_message"] = str(message)


def canonical_error_type(error_type: Any, exception_type: Any = None, provider: Any = None) -> str:
    """One name for one failure: "openai.RateLimitError" for every way a source writes it."""
    written = clean_error_type(error_type) if error_type else ""
    raised = clean_error_type(exception_type) if exception_type else ""
    if raised and "." in raised and (not written or written.rsplit(".", 1)[-1] == raised.rsplit(".", 1)[-1]):
        return raised
    name = written or raised
    if name and "." not in name and name in SDK_ERRORS:
        module = SDK_MODULES.get(str(provider or "").lower())
        if module:
            return f"{module}.{name}"
    if written and not written.isdigit() and written != "_OTHER":
        return written
    return raised or written


def clean_error_type(value: Any) -> str:
    """"<class 'openai.InternalServerError'>" -> "openai.InternalServerError"; else as given."""
    text = str(value).strip()
    match = _CLASS_REPR.match(text)
    return match.group(1) if match else text
