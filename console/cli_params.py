"""The command line's plain options read without pydantic (console/cli.py's ConsoleGroup).

typer 0.29 coerces every option's value through a pydantic TypeAdapter built when the command
runs: importing pydantic and building the adapters of `report`'s six options was ~0.1 s of
CPU, a tenth of a `report` over a million rows. An option or argument that is a plain string,
a list of strings or a path without checks gets the same value here without them: a str is
the str, a list of strings a list, and a path goes through typer's own path checks
(`coerce_cli_path`, given a Path so it needs no adapter). Anything else (numbers, choices,
flags with ranges, callbacks' types) keeps typer's adapter. If typer's internals change
shape, nothing is replaced and typer does as it always did.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, Iterable


class _Plain:
    """typer's RuntimeParam protocol (coerce) for a str, a list of strings, an unchecked Path or
    a flag; a value of any other shape goes to the coercion typer would have built."""

    def __init__(self, kind: str, descriptor: Any) -> None:
        self.kind = kind
        self.descriptor = descriptor

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        kind = self.kind
        if kind == "str" and isinstance(value, str):
            return value
        if kind == "bool" and isinstance(value, bool):
            return value
        if kind == "list" and isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            return list(value)
        if kind == "path" and isinstance(value, (str, Path)) and str(value):
            from typer._param_types import coerce_cli_path

            return coerce_cli_path(Path(value), self.descriptor.parameter_info, path_type=Path, param=param, ctx=ctx)
        from typer._coercion import build_runtime_param

        return build_runtime_param(self.descriptor).coerce(value, param=param, ctx=ctx)


def _kind(descriptor: Any) -> str | None:
    info = descriptor.parameter_info
    if info.parser is not None or getattr(info, "click_type", None) is not None or descriptor.is_file:
        return None
    annotation = descriptor.annotation
    if annotation is str and not descriptor.is_choice:
        return "str"
    if annotation is bool:
        return "bool"
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,):
        return "list"
    if annotation is Path and descriptor.is_path:
        return "path"
    return None


def plain_params(params: Iterable[Any]) -> None:
    """Give the plain string, path and flag parameters a coercion without pydantic."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", "absent") is not None:
            continue
        try:
            kind = _kind(descriptor)
        except AttributeError:  # another typer: leave it its own coercion
            continue
        if kind is not None:
            param._runtime_param = _Plain(kind, descriptor)
