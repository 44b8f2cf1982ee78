"""console/cli_params.py: the CLI's plain string, list, path and flag options coerced without
pydantic give what typer's own (pydantic) coercion gives, and anything else goes to typer's.
A typer before 0.29 has no such coercion (cli_params then replaces nothing: the rest of the
suite, run at the lowest versions by .ci/lowest-direct, is the test of that)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from console.cli import app
from console.cli_params import _Plain, plain_params


def _typer_internals():
    coercion = pytest.importorskip("typer._coercion", reason="a typer before 0.29: no pydantic coercion to replace")
    return coercion.build_runtime_param, pytest.importorskip("typer._click.exceptions").BadParameter


def _params(name: str):
    group = typer.main.get_command(app)
    ctx = group.make_context("llmops-console", [name, "--help"], resilient_parsing=True)
    return group.get_command(ctx, name), ctx


def test_report_and_checks_options_all_read_without_pydantic_and_as_typer_reads_them(tmp_path):
    build_runtime_param, BadParameter = _typer_internals()  # noqa: N806 (a class)
    samples = {"str": ["24h", "", "sqlite:///x.db", "ü"], "bool": [True, False],
               "list": [("a.jsonl", "b.jsonl"), ()], "path": [str(tmp_path), str(tmp_path / "missing.toml"), "rel/x"]}  # fmt: skip
    plain_kinds = set()
    for name in ("report", "check", "compare"):
        command, ctx = _params(name)
        for param in command.get_params(ctx):
            param._runtime_param = None
        plain_params(command.get_params(ctx))
        for param in command.get_params(ctx):
            plain = param._runtime_param
            if plain is None:  # not a plain kind: typer's own, built when used
                continue
            assert isinstance(plain, _Plain)
            plain_kinds.add(plain.kind)
            typer_own = build_runtime_param(param.type_descriptor)
            for value in [None, *samples[plain.kind]]:
                assert plain.coerce(value, param, ctx) == typer_own.coerce(value, param=param, ctx=ctx), (name, param.name, value)
    assert plain_kinds == {"str", "bool", "list", "path"}
    command, ctx = _params("report")
    config = next(p for p in command.get_params(ctx) if p.name == "config")
    assert config._runtime_param.coerce(str(tmp_path), config, ctx) == Path(tmp_path)
    for coerce in (config._runtime_param.coerce, build_runtime_param(config.type_descriptor).coerce):
        with pytest.raises(BadParameter, match="not a valid path"):  # another shape: typer's own says so
            coerce(3, param=config, ctx=ctx)
