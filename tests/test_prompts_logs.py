"""Hashes meet logs: the logger fills prompt_hash from the registry; report flags drift and unregistered versions."""

from __future__ import annotations

import json
from types import SimpleNamespace

from typer.testing import CliRunner

from console.cli import app
from console.emit import RequestLogger
from console.prompts.checks import check_versions
from console.prompts.registry import load_registry
from conftest import make_record

runner = CliRunner()


def registry_dir(tmp_path):
    root = tmp_path / "prompts"
    (root / "support-answer").mkdir(parents=True)
    (root / "support-answer" / "v7.txt").write_text("Answer {{ question }}\r\nBe kind.  \r\n")
    (root / "support-answer" / "v8.md").write_text("---\nmodel: gpt-4o\n---\nAnswer {{ question }}\nBe brief.\n")
    return root


def test_the_logger_fills_prompt_hash_from_the_registry(tmp_path):
    root = registry_dir(tmp_path)
    registry = load_registry(root)
    path = tmp_path / "app.jsonl"
    log = RequestLogger(path, prompts=root)
    with log.prompt("support-answer", "v7"), log.track(model="m"):
        pass
    with log.track(model="m", prompt_id="support-answer", prompt_version="v8"):
        pass
    with log.track(model="m", prompt_id="support-answer", prompt_version="v9"):  # unregistered
        pass
    with log.track(model="m", prompt_id="../support-answer", prompt_version="v7"):  # never a path outside
        pass
    with log.track(model="m", prompt_id="support-answer", prompt_version="v8", prompt_hash="given"):
        pass
    log.close()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    hashes = [record.get("prompt_hash") for record in records]
    assert hashes == [registry.get("support-answer", "v7").short_hash, registry.get("support-answer", "v8").short_hash,
                      None, None, "given"]
    plain = RequestLogger(tmp_path / "other.jsonl")  # no registry: no hash
    with plain.track(model="m", prompt_id="support-answer", prompt_version="v7"):
        pass
    plain.close()
    assert "prompt_hash" not in json.loads((tmp_path / "other.jsonl").read_text())


def test_check_versions_flags_drift_and_unregistered(tmp_path):
    registry = load_registry(registry_dir(tmp_path))
    v7 = registry.get("support-answer", "v7")
    rows = [
        SimpleNamespace(prompt_id="support-answer", prompt_version="v7", prompt_hashes=[v7.short_hash]),
        SimpleNamespace(prompt_id="support-answer", prompt_version="v8", prompt_hashes=["deadbeef0000", ""]),
        SimpleNamespace(prompt_id="support-answer", prompt_version="v6", prompt_hashes=[]),
        SimpleNamespace(prompt_id="classifier", prompt_version="v1", prompt_hashes=["abc"]),
    ]
    check = check_versions(rows, registry)
    assert [(d.prompt_version, d.logged_hashes) for d in check.drifted] == [("v8", ("deadbeef0000",))]
    assert check.drifted[0].registry_hash == registry.get("support-answer", "v8").short_hash
    assert check.unregistered == [("support-answer", "v6"), ("classifier", "v1")]
    assert not check.ok
    assert check_versions(rows[:1], registry).ok


def test_report_shows_drift_and_unregistered_when_a_registry_exists(tmp_path, write_log):
    root = registry_dir(tmp_path)
    registry = load_registry(root)
    good = registry.get("support-answer", "v7").short_hash
    records = [make_record(ts=1_795_000_000 + i, prompt_version="v7", prompt_hash=good) for i in range(5)]
    records += [make_record(ts=1_795_000_100 + i, prompt_version="v8", prompt_hash="0123456789ab") for i in range(5)]
    records += [make_record(ts=1_795_000_200, prompt_version="v5")]
    log = write_log("app.jsonl", records)
    config = tmp_path / "llmops.toml"
    config.write_text('[prompts]\npath = "prompts"\n')
    args = ["report", str(log), "--store", str(tmp_path / "db.sqlite"), "--since", "all", "--config", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "DRIFT support-answer@v8: logged 0123456789ab" in result.stdout
    assert "unregistered (seen in logs, not in the registry): support-answer@v5" in result.stdout
    assert "support-answer@v7:" not in result.stdout
    config.write_text('[prompts]\npath = "elsewhere"\n')  # no registry there: nothing said
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "registry" not in result.stdout


def test_version_marks_for_the_versions_pane(tmp_path):
    from console.prompts.checks import DRIFT, UNREGISTERED, version_marks

    registry = load_registry(registry_dir(tmp_path))
    v7 = registry.get("support-answer", "v7")
    rows = [
        SimpleNamespace(prompt_id="support-answer", prompt_version="v7", prompt_hashes=[v7.short_hash]),
        SimpleNamespace(prompt_id="support-answer", prompt_version="v8", prompt_hashes=["deadbeef0000"]),
        SimpleNamespace(prompt_id="classifier", prompt_version="v1", prompt_hashes=[]),
    ]
    assert version_marks(rows, registry) == {"support-answer@v8": DRIFT, "classifier@v1": UNREGISTERED}


def test_the_analytics_feed_computes_marks_off_the_ui_thread_and_rereads_the_registry(tmp_path, monkeypatch):
    from console.config import Settings
    from console.live import analytics_feed
    from console.live.analytics_feed import AnalyticsFeed

    root = registry_dir(tmp_path)
    (tmp_path / "llmops.toml").write_text("")
    feed = AnalyticsFeed(lambda m: None, Settings(source=str(tmp_path / "llmops.toml")))
    rows = [SimpleNamespace(prompt_id="support-answer", prompt_version="v9", prompt_hashes=[])]
    assert feed._registry_marks(rows) == {"support-answer@v9": "unregistered"}
    (root / "support-answer" / "v9.txt").write_text("new")
    assert feed._registry_marks(rows) == {"support-answer@v9": "unregistered"}  # cached for SLIDE_INTERVAL
    monkeypatch.setattr(analytics_feed, "SLIDE_INTERVAL", 0.0)
    assert feed._registry_marks(rows) == {}
    (root / "support-answer" / "v9.md").write_text("dup")  # a broken registry marks nothing
    assert feed._registry_marks(rows) is None
    no_registry = AnalyticsFeed(lambda m: None, Settings(source=str(tmp_path / "elsewhere" / "llmops.toml")))
    assert no_registry._registry_marks(rows) is None
