"""`llmops-console init`: a working starter set-up, and never an overwritten file."""

from __future__ import annotations

import json
import tomllib

import jsonschema
from typer.testing import CliRunner

from conftest import REPO
from console.cli import app
from console.config import load_settings
from console.emit import RequestLogger
from console.prompts.registry import load_registry, registry_root

runner = CliRunner()
SCHEMA = json.loads((REPO / "schemas" / "llmops-config.schema.json").read_text())


def test_init_in_an_empty_directory_gives_a_working_set_up(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "created" in result.stdout and "RequestLogger" in result.stdout
    config = tmp_path / "llmops.toml"
    assert not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(tomllib.loads(config.read_text())))
    settings = load_settings(config)
    assert (tmp_path / settings.regression.suite).read_text() == ""
    root = registry_root(settings.prompts.path, settings.source)
    registry = load_registry(root)
    example = registry.get("support-answer", "v1")
    assert example.labels == ("production",) and example.model == "gpt-4o-mini"
    assert example.variables == ("product", "question")
    assert "Acme" in example.render({"product": "Acme", "question": "Where is my refund?"})
    # the logger writes into it, with the registry's hash
    log = RequestLogger(tmp_path / "logs" / "requests.jsonl", prompts=root)
    with log.track(model="gpt-4o-mini", prompt_id="support-answer", prompt_version="v1"):
        pass
    log.close()
    record = json.loads((tmp_path / "logs" / "requests.jsonl").read_text())
    assert record["prompt_hash"] == example.short_hash


def test_init_keeps_existing_files_and_creates_the_rest(tmp_path):
    (tmp_path / "llmops.toml").write_text("# mine\n")
    (tmp_path / "regression").mkdir()
    (tmp_path / "regression" / "cases.jsonl").write_text('{"id": "keep"}\n')
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = "".join(result.stdout.split())  # Rich wraps long lines
    assert f"kept{tmp_path / 'llmops.toml'}".replace(" ", "") in out
    assert f"kept{tmp_path / 'regression' / 'cases.jsonl'}".replace(" ", "") in out
    assert f"created{tmp_path / 'prompts' / 'support-answer' / 'v1.md'}".replace(" ", "") in out
    assert (tmp_path / "llmops.toml").read_text() == "# mine\n"
    assert (tmp_path / "regression" / "cases.jsonl").read_text() == '{"id": "keep"}\n'
    assert (tmp_path / "prompts" / "support-answer" / "v1.md").is_file()
    assert (tmp_path / "prompts" / "support-answer" / "labels.toml").is_file()


def test_init_defaults_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert (tmp_path / "prompts" / "support-answer" / "v1.md").is_file()
    again = runner.invoke(app, ["init"])  # a second run keeps everything
    assert again.exit_code == 0 and "created " not in again.stdout and again.stdout.count("kept ") == 5


def test_prompts_list_show_diff_headless(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init"]).exit_code == 0
    folder = tmp_path / "prompts" / "support-answer"
    (folder / "v2.txt").write_text((folder / "v1.md").read_text().split("---\n", 2)[2].replace(
        "three sentences.", "three sentences.\nNever promise a refund."))
    listed = runner.invoke(app, ["prompts", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["version"], r["labels"]) for r in rows] == [("v1", ["production"]), ("v2", [])]
    assert runner.invoke(app, ["prompts", "list"]).stdout.startswith(f"support-answer@v1 {rows[0]['short_hash']}")
    shown = runner.invoke(app, ["prompts", "show", "support-answer", "v2"])
    assert shown.exit_code == 0 and "Never promise a refund." in shown.stdout and "---" not in shown.stdout
    diffed = runner.invoke(app, ["prompts", "diff", "support-answer", "v1", "v2"])
    assert diffed.exit_code == 0
    changed = [line for line in diffed.stdout.splitlines() if line.startswith(("+", "-"))][2:]
    # v1.md's front matter (model, parameters) is gone in v2.txt: the diff shows it too
    assert changed[-1] == "+Never promise a refund." and "-model: gpt-4o-mini" in changed and all(
        line.startswith("-") for line in changed[:-1])
    # a version that is not there is a usage error, exit 2 as the other commands' (it was 1),
    # and the line says which versions there are
    missing = runner.invoke(app, ["prompts", "diff", "support-answer", "v1", "v9"])
    assert missing.exit_code == 2
    assert missing.stderr == f"error: support-answer@v9 is not in the registry ({tmp_path / 'prompts'}): support-answer has v1, v2\n"
    unknown = runner.invoke(app, ["prompts", "show", "ticket-classifier", "v3"])
    assert unknown.exit_code == 2 and "no version of ticket-classifier is registered" in unknown.stderr
    (tmp_path / "prompts" / "support-answer" / "v2.md").write_text("dup")
    broken = runner.invoke(app, ["prompts", "list"])
    assert broken.exit_code == 2 and "duplicate version" in broken.stderr
