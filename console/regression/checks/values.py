"""An assertion's value as promptfoo reads it: `{{ var }}` templates rendered with the case's
vars (Jinja2, the Python sibling of promptfoo's nunjucks), `file://` values read from the file
(.json and .yaml parsed, anything else as trimmed text), and a comma-separated string as a
list for the contains-any/all family (quotes keep commas: `"a, b",c`)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from console.regression.checks.base import Broken

FILE_PREFIX = "file://"
SCRIPT_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts")
# nunjucks renders an unknown variable as nothing; so does Jinja2's default Undefined
_templates = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=512)
def _template(text: str):
    return _templates.from_string(text)


def render(value: Any, variables: dict[str, Any]) -> Any:
    """Every string in `value` rendered as a template (only those that contain one)."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        try:
            return _template(value).render(variables)
        except TemplateError as exc:
            raise Broken(f"template {value[:60]!r}: {exc}") from None
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: render(v, variables) for k, v in value.items()}
    return value


def file_path(reference: str, base: Path | None = None) -> tuple[Path, str | None]:
    """`file://path[:function]` -> (path, function). A relative path is from `base` (the
    working directory by default)."""
    rest = reference[len(FILE_PREFIX):]
    function = None
    head, sep, tail = rest.rpartition(":")
    if sep and head and tail and "/" not in tail and "\\" not in tail and not (len(head) == 1 and head.isalpha()):
        rest, function = head, tail
    path = Path(rest)
    return (path if path.is_absolute() else (base or Path.cwd()) / path), function


def load_file_value(reference: str) -> Any:
    path, _ = file_path(reference)
    if path.suffix.lower() in SCRIPT_SUFFIXES:
        raise Broken(f"{reference}: a script as the value is run only by python assertions")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Broken(f"cannot read {reference}: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise Broken(f"{reference} does not parse: {exc}") from None
    return text.strip()


def comma_separated(text: str) -> list[str]:
    """promptfoo's reading of a contains-any/all string: fields split at commas, blank fields
    dropped, a double-quoted field keeps its commas ("" or \\" for a quote inside it)."""
    fields: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and (text[i].isspace() or text[i] == ","):
            i += 1
        if i >= n:
            break
        if text[i] != '"':
            end = text.find(",", i)
            end = n if end < 0 else end
            fields.append(text[i:end].strip())
            i = end
            continue
        i, field, closed = i + 1, [], False
        while i < n:
            if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
                field.append(text[i + 1])
                i += 2
            elif text[i] == '"' and i + 1 < n and text[i + 1] == '"':
                field.append('"')
                i += 2
            elif text[i] == '"':
                i, closed = i + 1, True
                break
            else:
                field.append(text[i])
                i += 1
        if not closed:
            raise Broken("unterminated quoted field in the value")
        fields.append("".join(field))
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] != ",":
            raise Broken("expected a comma after a quoted field in the value")
    return fields
