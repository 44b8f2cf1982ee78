"""`llmops-console init --from-logs`, LLMOPS.md's logger snippet, and the registry check at the end of ingest."""

from __future__ import annotations

import json
import re
import sys
import tomllib
import types
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import REPO, line_of, make_record
from console.cli import app
from console.commands.init_files import SNIPPET_FILE
from console.config import load_settings
from console.emit import RequestLogger
from console.prompts.checks import check_versions
from console.prompts.registry import UNKNOWN_MARKER, content_hash, load_registry
from console.records import parse_line

runner = CliRunner()
SCHEMA = json.loads((REPO / "schemas" / "llmops-config.schema.json").read_text())
V7_HASH = "1035cb21648a"
V8_HASH = "ba14037bafa2"


def flat(text: str) -> str:
    return " ".join(text.split())  # terminal wrapping aside


def write_log(path: Path, lines) -> Path:
    path.write_text("".join(line if isinstance(line, str) else line_of(line) for line in lines), encoding="utf-8")
    return path


def sample_log(tmp_path: Path) -> Path:
    lines = []
    for day in (18, 19, 20):  # three days of gpt-4o-mini at a known price, no cost_usd logged
        for i in range(30):
            lines.append(make_record(ts=f"2026-11-{day}T10:{i:02d}:00Z", prompt_version="v7", prompt_hash=V7_HASH,
                                     latency_ms=1000.0 + 10 * i, input_tokens=1_000_000, output_tokens=0))
    lines.append("{not json\n")  # line 91
    lines.append(make_record(prompt_id="ticket-classifier", prompt_version="v3", model="my-finetune", latency_ms=50.0))
    lines.append(make_record(prompt_version="v8", prompt_hash=V8_HASH, status="error", latency_ms=99_999.0))
    lines.append(make_record(prompt_version="v8", prompt_hash="0123456789ab"))  # v8 logged from two texts: drift
    lines.append(make_record(prompt_version="v8", prompt_hash=V8_HASH))
    lines.append(make_record(prompt_id="../../etc", prompt_version="v1"))  # never a path
    return write_log(tmp_path / "app.jsonl", lines)


def test_from_logs_registers_every_logged_version_and_suggests_budget_and_slos(tmp_path):
    log = sample_log(tmp_path)
    project = tmp_path / "proj"
    result = runner.invoke(app, ["init", str(project), "--from-logs", str(log)])
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    assert f"{log}:91: invalid JSON" in out and "1 malformed line(s) skipped" in out
    # every version has a file, text unknown, with the logged (most common) hash; the example prompt is not written
    registry = load_registry(project / "prompts")
    names = sorted(f"{v.prompt_id}@{v.version}" for v in registry.versions())
    assert names == ["support-answer@v7", "support-answer@v8", "ticket-classifier@v3"]
    v7, v8, v3 = (registry.get(*name.split("@")) for name in names)
    assert all(v.text_unknown for v in (v7, v8, v3))
    assert (v7.hash, v8.hash, v3.hash) == (V7_HASH, V8_HASH, "")
    assert UNKNOWN_MARKER in v7.path.read_text() and v7.path.name == "v7.txt"
    assert not (project / "prompts" / "support-answer" / "v1.md").exists()
    assert not list(tmp_path.glob("etc*")) and "skipped ../../etc@v1: not usable as a file name" in out
    assert "DRIFT support-answer@v8: also logged with 0123456789ab" in out
    # no false drift for the registered versions; the other v8 text is drift
    rows = [types.SimpleNamespace(prompt_id="support-answer", prompt_version="v7", prompt_hashes=[V7_HASH]),
            types.SimpleNamespace(prompt_id="support-answer", prompt_version="v8", prompt_hashes=[V8_HASH, "0123456789ab"]),
            types.SimpleNamespace(prompt_id="ticket-classifier", prompt_version="v3", prompt_hashes=["feedfacecafe"])]
    check = check_versions(rows, registry)
    assert [(d.prompt_version, d.logged_hashes) for d in check.drifted] == [("v8", ("0123456789ab",))]
    # the suggestions, with their rule: 3 days of $0.15 (1M input tokens of gpt-4o-mini x 30 a day = $4.50)
    assert "daily budget = p95 of the spend per UTC day" in out and "x 1.5 headroom" in out
    assert "daily budget $6.80" in out  # 4.50 x 1.5 = 6.75, rounded up to two significant figures
    assert "gpt-4o-mini: p95" in out and "SLO max_ms" in out
    assert "my-finetune: only 1 successful request(s), no SLO suggested" in out
    assert "1 requests unpriced" in out and "my-finetune (1)" in out
    # the pasteable TOML is valid config
    toml = result.stdout.split("paste into llmops.toml to use them:\n", 1)[1].split("\nLog the app's requests", 1)[0]
    suggested = tomllib.loads(toml)
    assert suggested["budgets"] == [{"name": "daily spend", "period": "day", "amount_usd": 6.8}]
    [slo] = suggested["slos"]
    assert slo["model"] == "gpt-4o-mini" and slo["max_ms"] % 100 == 0 and slo["max_ms"] >= 1.2 * 1280
    config = {**tomllib.loads((project / "llmops.toml").read_text()), **suggested}
    assert not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(config))
    # LLMOPS.md names the busiest logged version
    assert 'prompt_id="support-answer", prompt_version="v7"' in (project / SNIPPET_FILE).read_text()


def test_prompts_list_and_show_say_the_text_is_unknown(tmp_path, monkeypatch):
    log = sample_log(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "--from-logs", str(log)]).exit_code == 0
    listed = runner.invoke(app, ["prompts", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"support-answer@v7 {V7_HASH} ({UNKNOWN_MARKER})" in listed.stdout
    assert f"ticket-classifier@v3 - ({UNKNOWN_MARKER})" in listed.stdout
    rows = json.loads(runner.invoke(app, ["prompts", "list", "--json"]).stdout)
    assert all(row["text_unknown"] for row in rows)
    diffed = runner.invoke(app, ["prompts", "diff", "support-answer", "v7", "v8"])
    assert diffed.exit_code == 1 and UNKNOWN_MARKER in diffed.stderr


def test_from_logs_never_overwrites_a_registered_version(tmp_path):
    log = sample_log(tmp_path)
    folder = tmp_path / "proj" / "prompts" / "support-answer"
    folder.mkdir(parents=True)
    (folder / "v7.md").write_text("The real v7 text.\n")
    result = runner.invoke(app, ["init", str(tmp_path / "proj"), "--from-logs", str(log)])
    assert result.exit_code == 0, result.output
    assert f"kept {folder / 'v7.md'} for support-answer@v7" in flat(result.stdout)
    assert (folder / "v7.md").read_text() == "The real v7 text.\n" and not (folder / "v7.txt").exists()
    again = runner.invoke(app, ["init", str(tmp_path / "proj"), "--from-logs", str(log)])
    assert again.exit_code == 0 and "registered " not in again.stdout
    assert f"kept {folder / 'v8.txt'} for support-answer@v8" in flat(again.stdout)


def test_from_logs_fails_cleanly_on_a_missing_file(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path), "--from-logs", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "nope.jsonl does not exist" in flat(result.output)
    assert not (tmp_path / "llmops.toml").exists()


def test_from_logs_reads_otlp_too():
    otlp = REPO / "sample_logs" / "otel" / "support-chat.otlp.jsonl"
    from console.commands.init_logs import survey_logs

    survey = survey_logs([str(otlp)])
    assert survey.records > 0 and survey.versions and survey.rejected == 0


def test_the_logger_logs_no_hash_for_a_version_whose_text_is_unknown(tmp_path):
    log = sample_log(tmp_path)
    assert runner.invoke(app, ["init", str(tmp_path / "proj"), "--from-logs", str(log)]).exit_code == 0
    logger = RequestLogger(tmp_path / "out.jsonl", prompts=tmp_path / "proj" / "prompts")
    with logger.track(model="gpt-4o-mini", prompt_id="support-answer", prompt_version="v7"):
        pass
    logger.close()
    assert "prompt_hash" not in json.loads((tmp_path / "out.jsonl").read_text())


# -- LLMOPS.md: the snippet runs ---------------------------------------------------------------


class FakeCompletions:
    def create(self, **kwargs):
        return {"id": "chatcmpl-1", "model": kwargs["model"],
                "choices": [{"message": {"content": "Open Settings."}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 30, "completion_tokens": 4}}  # fmt: skip


class FakeOpenAI:
    def __init__(self):
        self.chat = types.SimpleNamespace(completions=FakeCompletions())


def run_snippet(project: Path, monkeypatch) -> dict:
    """Run every python block of LLMOPS.md in the project, as the app would, and make one call."""
    monkeypatch.setitem(sys.modules, "openai", types.SimpleNamespace(OpenAI=FakeOpenAI))
    monkeypatch.chdir(project)
    blocks = re.findall(r"```python\n(.*?)```", (project / SNIPPET_FILE).read_text(), re.DOTALL)
    assert len(blocks) == 2
    scope: dict = {}
    for block in blocks:
        exec(compile(block, str(project / SNIPPET_FILE), "exec"), scope)  # noqa: S102 - our own snippet
    scope["client"].chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    scope["log"].close()
    return scope


def test_the_snippet_in_llmops_md_writes_valid_lines(tmp_path, monkeypatch):
    assert runner.invoke(app, ["init", str(tmp_path)]).exit_code == 0
    run_snippet(tmp_path, monkeypatch)
    lines = (tmp_path / "logs" / "requests.jsonl").read_bytes().splitlines()
    records = [parse_line(line) for line in lines]  # schema v1, or this raises
    assert len(records) == 2
    example = load_registry(tmp_path / "prompts").get("support-answer", "v1")
    assert {r.prompt_hash for r in records} == {example.short_hash}
    called = next(r for r in records if r.output == "Open Settings.")
    assert (called.input_tokens, called.output_tokens, called.status) == (30, 4, "ok")


def test_snippet_file_is_never_overwritten(tmp_path):
    (tmp_path / SNIPPET_FILE).write_text("# ours\n")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0 and f"kept {tmp_path / SNIPPET_FILE}" in flat(result.stdout)
    assert (tmp_path / SNIPPET_FILE).read_text() == "# ours\n"


def test_a_fresh_init_and_its_logger_give_a_log_ingest_and_report_accept(tmp_path, monkeypatch):
    assert runner.invoke(app, ["init", str(tmp_path)]).exit_code == 0
    run_snippet(tmp_path, monkeypatch)
    store = str(tmp_path / "store.db")
    ingested = runner.invoke(app, ["ingest", "logs/requests.jsonl", "--store", store, "--config", "llmops.toml"])
    assert ingested.exit_code == 0, ingested.output
    out = flat(ingested.stdout)
    assert "2 rows added" in out and "0 lines rejected" in out
    assert "every logged version in this ingest is registered, no drift" in out
    reported = runner.invoke(app, ["report", "--store", store, "--since", "all", "--json", "--config", "llmops.toml"])
    assert reported.exit_code == 0, reported.output
    doc = json.loads(reported.stdout)
    assert "support-answer@v1" in json.dumps(doc) and load_settings(tmp_path / "llmops.toml").prompts.path == "prompts"
    text = runner.invoke(app, ["report", "--store", store, "--since", "all", "--config", "llmops.toml"])
    assert text.exit_code == 0 and "no drift" in flat(text.stdout)


# -- ingest: drifted and unregistered versions at the end -------------------------------------------


def test_ingest_reports_drift_and_unregistered_versions_at_the_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "prompts" / "support-answer"
    folder.mkdir(parents=True)
    (folder / "v7.txt").write_text("Answer briefly.\n")
    good = content_hash("Answer briefly.")[:12]
    (tmp_path / "llmops.toml").write_text('[prompts]\npath = "prompts"\n')
    log = write_log(tmp_path / "a.jsonl", [
        *(make_record(prompt_version="v7", prompt_hash=good) for _ in range(50)),
        make_record(prompt_version="v7", prompt_hash="deadbeef0000"),
        make_record(prompt_version="v9\x1b[2J"),
    ])  # fmt: skip
    result = runner.invoke(app, ["ingest", str(log), "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    assert f"DRIFT support-answer@v7: logged deadbeef0000, registry {good}" in out
    assert "unregistered (seen in logs, not in the registry): support-answer@v9" in out and "[2J" not in out
    assert "\x1b" not in result.stdout
    # without a registry directory nothing is said
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    quiet = runner.invoke(app, ["ingest", str(log), "--store", str(other / "s.db")])
    assert quiet.exit_code == 0 and "registry" not in quiet.stdout


def test_registry_front_matter_of_unknown_texts_is_checked(tmp_path):
    from console.prompts.registry import PromptError

    folder = tmp_path / "prompts" / "p"
    folder.mkdir(parents=True)
    (folder / "v1.txt").write_text('---\nprompt_hash: "abcdef123456"\n---\nA known text.\n')
    with pytest.raises(PromptError, match=r"v1\.txt: prompt_hash is only for a version with text_unknown: true"):
        load_registry(tmp_path / "prompts")
    (folder / "v1.txt").write_text('---\ntext_unknown: true\nprompt_hash: "not hex!"\n---\nx\n')
    with pytest.raises(PromptError, match=r"v1\.txt: prompt_hash must be 7 to 64 hex digits"):
        load_registry(tmp_path / "prompts")
    (folder / "v1.txt").write_text('---\ntext_unknown: yes\n---\nx\n')
    with pytest.raises(PromptError, match=r"v1\.txt: text_unknown must be true or false"):
        load_registry(tmp_path / "prompts")
    (folder / "v1.txt").write_text('---\ntext_unknown: true\nprompt_hash: "ABCDEF1234567"\n---\nx\n')
    entry = load_registry(tmp_path / "prompts").get("p", "v1")
    assert entry.text_unknown and entry.hash == "abcdef1234567" and entry.short_hash == "abcdef123456"
    with pytest.raises(PromptError, match="text unknown"):
        entry.render({})
    full = "abcdef1234567" + "0" * 51  # a logged full hash names the short one registered
    rows = [types.SimpleNamespace(prompt_id="p", prompt_version="v1", prompt_hashes=["abcdef123456", full])]
    assert check_versions(rows, load_registry(tmp_path / "prompts")).ok
