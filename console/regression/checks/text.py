"""Text checks with promptfoo's meaning: equals, the contains family, starts-with, regex and
levenshtein. Numbers are compared as JavaScript writes them; an empty value is a mistake in the
suite, not a pass; regexes are read as JavaScript reads them (see js_regex)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from console.regression.checks.base import Broken, Check, Given, check, is_number, js_string, short
from console.regression.checks.values import comma_separated

DEFAULT_LEVENSHTEIN = 5  # maximum edit distance when no threshold is given (promptfoo's)


def _normalized(text: str, form: Any) -> str:
    if form is None or form is False:
        return text
    return unicodedata.normalize("NFC" if form is True else form, text)


def json_equal(a: Any, b: Any) -> bool:
    """Deep equality of JSON values as JavaScript's isDeepStrictEqual sees them: true is not
    1, and 5 is 5.0 (JSON has one number type)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) or is_number(b):
        return is_number(a) and is_number(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def strict_json(text: str) -> Any:
    """JSON.parse: NaN and Infinity are not JSON (Python's json reads them)."""
    import json

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def equals(value: Any, given: Given) -> Check:
    if value is None:
        value = given.case.expected_output
        if value is None:
            raise Broken("equals needs a value or the case's expected_output")
    output = given.out.output
    if isinstance(value, (dict, list)):
        try:
            same = json_equal(value, strict_json(output))
        except ValueError:
            return check(False, "output is not JSON, expected a JSON value")
        return check(same, "JSON equal" if same else f"JSON differs from {short(value)}")
    expected = js_string(value)
    form = given.assertion.normalize_unicode
    same = _normalized(output, form) == _normalized(expected, form)
    return check(same, f"output {'equals' if same else 'differs from'} {short(expected)}")


def _needle(value: Any, kind: str) -> str:
    if isinstance(value, str) and value:
        return value
    if is_number(value) and value == value:  # NaN is no value
        return js_string(value)
    raise Broken(f"{kind} needs a non-empty string or a number")


def _needles(value: Any, kind: str) -> list[str]:
    if isinstance(value, str) and value:
        value = comma_separated(value)
    elif not value and not isinstance(value, list):
        raise Broken(f"{kind} needs a value (a list, or a comma-separated string)")
    if not isinstance(value, list):
        raise Broken(f"{kind} needs a list (or a comma-separated string)")
    return [js_string(v) for v in value]  # String(v) as promptfoo: a null item looks for "null"


def _fold(text: str, fold: bool) -> str:
    return text.lower() if fold else text


def contains(value: Any, given: Given, *, fold: bool = False) -> Check:
    kind = given.assertion.kind
    needle, form = _needle(value, kind), given.assertion.normalize_unicode
    found = _fold(_normalized(needle, form), fold) in _fold(_normalized(given.out.output, form), fold)
    return check(found, f"{short(needle)} {'found' if found else 'not found'}" + (" (ignoring case)" if fold else ""))


def contains_any(value: Any, given: Given, *, fold: bool = False) -> Check:
    output = _fold(given.out.output, fold)
    needles = _needles(value, given.assertion.kind)
    hits = [v for v in needles if _fold(v, fold) in output]
    return check(bool(hits), f"found {short(hits[0])}" if hits else f"none of {short(needles)} found")


def contains_all(value: Any, given: Given, *, fold: bool = False) -> Check:
    output = _fold(given.out.output, fold)
    missing = [v for v in _needles(value, given.assertion.kind) if _fold(v, fold) not in output]
    return check(not missing, "all found" if not missing else f"missing {', '.join(map(short, missing))}")


def _pattern(value: Any, kind: str) -> str:
    if not isinstance(value, str) or not value:
        raise Broken(f"{kind} needs a non-empty string")
    return value


def starts_with(value, given):
    prefix = _pattern(value, "starts-with")
    ok = given.out.output.startswith(prefix)
    return check(ok, f"{'starts' if ok else 'does not start'} with {short(prefix)}")


# After a backslash, the letters JavaScript gives a meaning (\k<name> is handled on its own);
# any other letter is an identity escape there: \A is "A" (in Python the start), \p is "p"
_JS_ESCAPE_LETTERS = frozenset("bBdDwWsSfnrtvcxuk")
# What may follow "(?" in a JavaScript pattern: (?: (?= (?! (?<= (?<! (?<name> and the
# ES2025 modifiers (?i: (?-m: … (i, m, s only). Not Python's (?i) (?P<name> (?#…) (?>…)
_JS_GROUP = re.compile(r"\(\?(?:[:=!]|<[=!]|<(?:[^\W\d]|\$)[\w$]*>|[ims]*(?:-[ims]+)?:)")


def js_regex(pattern: str) -> str:
    """A JavaScript pattern (no flags) as a Python one that matches the same text: `$` only at
    the very end (Python's also matches before a final newline), `(?<name>` and `\\k<name>`
    for named groups; \\d, \\w and \\b are ASCII there (re.ASCII does that part). What
    `new RegExp` refuses is refused (Broken): Python's inline flags `(?i)`, `(?P<name>`; a
    letter JavaScript does not escape is itself (`\\A` matches "A", as there)."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            named = re.match(r"\\k<(\w+)>", pattern[i:])
            if named and not in_class:
                out.append(f"(?P={named.group(1)})")
                i += len(named.group(0))
                continue
            escaped = pattern[i + 1]
            if escaped.isascii() and escaped.isalpha() and escaped not in _JS_ESCAPE_LETTERS:
                out.append(escaped)
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern.startswith("[^]", i):  # JavaScript's "any character"
                out.append(r"[\s\S]")
                i += 3
                in_class = False
                continue
        elif char == "$":
            char = r"\Z"
        elif pattern.startswith("(?", i) and not _JS_GROUP.match(pattern, i):
            raise Broken(f"not a JavaScript regex: {pattern[i:i + 6]!r}… (promptfoo's new RegExp refuses it;"
                         " no inline flags such as (?i): icontains or [Aa] for case)")
        elif pattern.startswith("(?<", i) and i + 3 < len(pattern) and pattern[i + 3] not in "=!":
            char, i = "(?P<", i + 2
        out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def compiled(pattern: str) -> re.Pattern:
    try:
        return re.compile(js_regex(pattern), re.ASCII)
    except re.error as exc:
        raise Broken(f"bad regex {pattern!r}: {exc}") from None


def regex(value, given):
    pattern = _pattern(value, "regex")
    match = compiled(pattern).search(given.out.output)
    return check(match is not None, f"matched {short(match.group(0))}" if match else f"no match for {short(pattern)}")


def levenshtein(a: str, b: str, limit: int | None = None) -> int:
    """Edit distance; with `limit`, any distance above it is reported as limit + 1 (banded, fast)."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def levenshtein_check(value, given):
    a = given.assertion
    reference = value if isinstance(value, str) else given.case.expected_output
    if reference is None:
        raise Broken("levenshtein needs a string value or the case's expected_output")
    if a.threshold is not None:
        limit = a.threshold
    elif is_number(value):
        limit = value
    else:
        limit = DEFAULT_LEVENSHTEIN
    distance = levenshtein(given.out.output, reference, int(limit))
    shown = f"> {int(limit)}" if distance > limit else str(distance)
    return check(distance <= limit, f"edit distance {shown} (max {limit:g})")
