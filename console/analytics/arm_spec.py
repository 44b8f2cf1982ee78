"""Which requests make an arm: the spec ("prompt=support-answer@v8,model=gpt-4o", terms
ANDed), its parsing with errors that say what is wrong and where, and the rows of a Columns
that belong to it. console.analytics.compare compares two arms; the rollup path
(console.analytics.compare_sketch) selects the same arms' cells.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from typing import Optional

import msgspec
import numpy as np

from console.analytics.columns import Columns
from console.formatting import rfc3339
from console.records import EPOCH_MS_THRESHOLD  # larger epoch numbers are milliseconds

# spec key -> ArmSpec field (None: handled specially)
_KEYS = {
    "model": "model",
    "prompt": None,
    "prompt_id": "prompt_id",
    "prompt_version": "prompt_version",
    "version": "prompt_version",
    "env": "environment",
    "environment": "environment",
    "user": "user",
    "before": "before",
    "after": "after",
}


class ArmSpec(msgspec.Struct, frozen=True, omit_defaults=True):
    """Which requests make an arm; every set field must match (ts: after <= ts < before)."""

    model: Optional[str] = None
    prompt_id: Optional[str] = None
    prompt_version: Optional[str] = None
    environment: Optional[str] = None
    user: Optional[str] = None
    after: Optional[float] = None
    before: Optional[float] = None

    @property
    def text(self) -> str:
        """The spec in canonical form; parse_arm_spec(spec.text) == spec."""
        parts = []
        for name in ("model", "prompt_id", "prompt_version", "environment", "user"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        for name in ("after", "before"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={rfc3339(value)}")
        return ",".join(parts) or "all"

    @property
    def label(self) -> str:
        """A short human name: "support-answer@v8 · gpt-4o", "v7", "after 2026-11-18T14:00:00Z"."""
        parts = []
        if self.prompt_id is not None and self.prompt_version is not None:
            parts.append(f"{self.prompt_id}@{self.prompt_version}")
        elif self.prompt_id is not None:
            parts.append(self.prompt_id)
        elif self.prompt_version is not None:
            parts.append(self.prompt_version)
        if self.model is not None:
            parts.append(self.model)
        if self.environment is not None:
            parts.append(f"env {self.environment}")
        if self.user is not None:
            parts.append(f"user {self.user}")
        if self.after is not None:
            parts.append(f"after {rfc3339(self.after)}")
        if self.before is not None:
            parts.append(f"before {rfc3339(self.before)}")
        return " · ".join(parts) or "all requests"


def parse_time(value: str) -> float:
    """RFC 3339 ("2026-11-18T14:00:00Z"), a date (UTC midnight), or epoch seconds/ms."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"not a time: {value!r}")
        return number / 1000.0 if number > EPOCH_MS_THRESHOLD else number
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"not a time: {value!r} (use RFC 3339 like 2026-11-18T14:00:00Z, a date, or epoch seconds)"
        ) from None
    if moment.tzinfo is None:
        if len(text) == 10:  # a bare date: midnight UTC is the only sensible reading
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), timezone.utc).timestamp()
        raise ValueError(f"time {value!r} has no UTC offset (add Z or +hh:mm)")
    return moment.timestamp()


def parse_arm_spec(spec: str) -> ArmSpec:
    """Parse "key=value[,key=value...]"; raises ValueError saying what is wrong and where."""
    if not spec or not spec.strip():
        raise ValueError("empty arm spec (e.g. prompt_version=v7, model=gpt-4o, prompt=support-answer@v8)")
    fields: dict[str, object] = {}

    def put(name: str, value: object, term: str) -> None:
        if name in fields and fields[name] != value:
            raise ValueError(f"{name} is given twice in {spec!r} ({term!r})")
        fields[name] = value

    for term in spec.split(","):
        key, sep, value = term.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            raise ValueError(f"{term.strip()!r} in {spec!r} is not key=value (keys: {', '.join(_KEYS)})")
        if key not in _KEYS:
            raise ValueError(f"unknown key {key!r} in {spec!r} (keys: {', '.join(_KEYS)})")
        if not value:
            raise ValueError(f"{key}= needs a value in {spec!r}")
        if key == "prompt":
            prompt_id, at, version = value.rpartition("@")
            if not at:
                put("prompt_id", value, term)
            elif not prompt_id or not version:
                raise ValueError(f"prompt={value} in {spec!r}: write prompt=<id>@<version> or prompt=<id>")
            else:
                put("prompt_id", prompt_id, term)
                put("prompt_version", version, term)
        elif key in ("before", "after"):
            put(key, parse_time(value), term)
        else:
            put(_KEYS[key], value, term)
    after, before = fields.get("after"), fields.get("before")
    if after is not None and before is not None and after >= before:  # type: ignore[operator]
        raise ValueError(f"after= must be earlier than before= in {spec!r}")
    return ArmSpec(**fields)  # type: ignore[arg-type]


# -- selecting rows --------------------------------------------------------------------------


def _codes_equal(cols: Columns, category: str, wanted: str) -> np.ndarray:
    """Codes whose name equals wanted, ignoring case (people type model names by hand)."""
    folded = wanted.casefold()
    codes = [i for i, name in enumerate(cols.names(category)) if name.casefold() == folded]
    return np.array(codes, dtype=np.int64)


def _prompt_codes(cols: Columns, prompt_id: Optional[str], version: Optional[str]) -> np.ndarray:
    """Codes of "prompt" (id@version) for this id and/or version.

    The version is read off each key by removing its own prompt_id (pairing the two
    codes), so an "@" inside an id or a version cannot split it in the wrong place.
    """
    if len(cols) == 0:
        return np.array([], dtype=np.int64)
    prompt_names, id_names = cols.names("prompt"), cols.names("prompt_id")
    pairs = np.unique(cols.prompt.astype(np.int64) * (len(id_names) + 1) + cols.prompt_id)
    wanted_id = None if prompt_id is None else prompt_id.casefold()
    wanted_version = None if version is None else version.casefold()
    codes = []
    for pair in pairs.tolist():
        prompt_code, id_code = divmod(pair, len(id_names) + 1)
        key, pid = prompt_names[prompt_code], id_names[id_code]
        if wanted_id is not None and pid.casefold() != wanted_id:
            continue
        if wanted_version is not None and key[len(pid) + 1 :].casefold() != wanted_version:
            continue
        codes.append(prompt_code)
    return np.array(codes, dtype=np.int64)


def arm_mask(cols: Columns, spec: ArmSpec) -> np.ndarray:
    """The rows of cols that belong to the arm."""
    mask = np.ones(len(cols), dtype=np.bool_)
    if spec.prompt_id is not None or spec.prompt_version is not None:
        mask &= np.isin(cols.prompt, _prompt_codes(cols, spec.prompt_id, spec.prompt_version))
    for field, category in (("model", "model"), ("environment", "environment"), ("user", "user")):
        value = getattr(spec, field)
        if value is not None:
            mask &= np.isin(getattr(cols, category), _codes_equal(cols, category, value))
    if spec.after is not None:
        mask &= cols.ts >= spec.after
    if spec.before is not None:
        mask &= cols.ts < spec.before
    return mask
