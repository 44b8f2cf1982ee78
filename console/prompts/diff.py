"""Diffs of two prompt versions: a unified diff for scripts and review, side-by-side rows for the UI.

Both work on the normalised texts, so line endings and trailing blanks never show as changes.
Both include the front matter (model and parameters, one `key: value` line each, keys in
order): a version that only lowers max_tokens changes what the model answers as surely as
a changed line of text does.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Literal

from console.prompts.registry import PromptVersion, normalise

Tag = Literal["equal", "replace", "delete", "insert"]


@dataclass(frozen=True)
class SideBySideRow:
    tag: Tag
    left_number: int | None  # 1-based line numbers; None where the side has no line
    left: str
    right_number: int | None
    right: str


@dataclass(frozen=True)
class VersionDiff:
    """Two registry versions and their side-by-side rows, computed off the UI thread."""

    old: PromptVersion
    new: PromptVersion
    rows: tuple[SideBySideRow, ...]
    settings: tuple[SideBySideRow, ...] = ()  # the front matter, one row per key (settings_rows)


def version_diff(old: PromptVersion, new: PromptVersion) -> VersionDiff:
    return VersionDiff(old, new, tuple(side_by_side(old.text, new.text)), tuple(settings_rows(old, new)))


def settings(version: PromptVersion) -> dict[str, str]:
    """The front matter as key -> shown value: model first, then the parameters by name."""
    shown = {"model": version.model} if version.model is not None else {}
    for key in sorted(version.parameters):
        value = version.parameters[key]
        shown[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return shown


def settings_rows(old: PromptVersion, new: PromptVersion) -> list[SideBySideRow]:
    """One row per front matter key of either version, aligned by key (no line numbers)."""
    left, right = settings(old), settings(new)
    rows = []
    for key in dict.fromkeys([*left, *right]):
        a, b = left.get(key), right.get(key)
        tag: Tag = "equal" if a == b else "insert" if a is None else "delete" if b is None else "replace"
        rows.append(SideBySideRow(
            tag, None, "" if a is None else f"{key}: {a}", None, "" if b is None else f"{key}: {b}",
        ))  # fmt: skip
    return rows


def _document(version: PromptVersion, with_front_matter: bool) -> list[str]:
    body = normalise(version.text).split("\n")
    if not with_front_matter:
        return body
    return ["---", *(f"{key}: {value}" for key, value in settings(version).items()), "---", *body]


def unified_diff(old: PromptVersion, new: PromptVersion, context: int = 3) -> str:
    """difflib's unified diff of front matter and text, headed with the two files; '' when
    both are the same."""
    with_front_matter = bool(settings(old) or settings(new))
    lines = difflib.unified_diff(
        _document(old, with_front_matter), _document(new, with_front_matter),
        fromfile=f"{old.prompt_id}@{old.version} ({old.short_hash})",
        tofile=f"{new.prompt_id}@{new.version} ({new.short_hash})",
        n=context, lineterm="",
    )  # fmt: skip
    text = "\n".join(lines)
    return text + "\n" if text else ""


def side_by_side(old_text: str, new_text: str) -> list[SideBySideRow]:
    """Aligned rows: equal lines side by side, a replaced block paired line by line."""
    left = normalise(old_text).split("\n")
    right = normalise(new_text).split("\n")
    rows: list[SideBySideRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(SideBySideRow("equal", i + 1, left[i], j + 1, right[j]) for i, j in zip(range(i1, i2), range(j1, j2)))
        elif tag == "delete":
            rows.extend(SideBySideRow("delete", i + 1, left[i], None, "") for i in range(i1, i2))
        elif tag == "insert":
            rows.extend(SideBySideRow("insert", None, "", j + 1, right[j]) for j in range(j1, j2))
        else:
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                rows.append(SideBySideRow(
                    "replace",
                    i + 1 if i < i2 else None, left[i] if i < i2 else "",
                    j + 1 if j < j2 else None, right[j] if j < j2 else "",
                ))  # fmt: skip
    return rows


def changed_lines(rows: list[SideBySideRow]) -> int:
    return sum(1 for row in rows if row.tag != "equal")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def change_summary(rows: list[SideBySideRow]) -> str:
    """What the rows did, in words: '1 line added', '2 lines removed, 1 added', '1 line changed',
    'no line changed'. A replaced block pairs lines: a pair is a changed line, a line without
    its pair on the other side is removed or added ('1 line(s) changed' said an added line)."""
    changed = sum(1 for row in rows if row.tag == "replace" and row.left_number and row.right_number)
    removed = sum(1 for row in rows if row.tag in ("delete", "replace") and row.left_number and not row.right_number)
    added = sum(1 for row in rows if row.tag in ("insert", "replace") and row.right_number and not row.left_number)
    parts = [(number, verb) for number, verb in ((changed, "changed"), (removed, "removed"), (added, "added")) if number]
    if not parts:
        return "no line changed"
    first, *rest = parts
    return ", ".join([f"{_count(first[0], 'line')} {first[1]}", *(f"{number} {verb}" for number, verb in rest)])


def settings_summary(rows: list[SideBySideRow]) -> str:
    """The front matter's changed keys: '1 setting changed (max_tokens)'; '' when none is."""
    names = [(row.left or row.right).partition(":")[0] for row in rows if row.tag != "equal"]
    return f"{_count(len(names), 'setting')} changed ({', '.join(names)})" if names else ""
