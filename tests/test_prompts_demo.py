"""The demo's prompt registry: v8 is v7 plus one policy line, the logged hashes agree with it
(except the story's intentional drift), and the demo's suite passes on v7 and fails on v8."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli import app
from console.config import load_settings
from console.demo import texts
from console.demo.run import plan_demo, registry_files
from console.demo.story import prompt_hash
from console.prompts.checks import check_versions
from console.prompts.diff import side_by_side
from console.prompts.registry import content_hash, load_registry, registry_root, split_front_matter

runner = CliRunner()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return plan_demo(tmp_path_factory.mktemp("demo"), rate=2.0, now=NOW)


def test_the_story_logs_the_registry_hash_of_every_version():
    for (prompt_id, version), text in texts.PROMPT_TEMPLATES.items():
        assert prompt_hash(prompt_id, version) == content_hash(text)[:12], (prompt_id, version)
        body = split_front_matter(registry_files()[f"{prompt_id}/{version}.md"], Path("x"))[1]
        assert content_hash(body) == content_hash(text)
    drifted = prompt_hash("summarize-thread", "v2", drifted=True)
    assert drifted != prompt_hash("summarize-thread", "v2")


def test_v8_differs_from_v7_by_exactly_the_policy_line(demo):
    settings = load_settings(demo.config)
    registry = load_registry(registry_root(settings.prompts.path, settings.source))
    prompt = registry.prompts["support-answer"]
    assert [v.version for v in prompt.versions] == ["v6", "v7", "v8", "v9"]
    assert prompt.labels == {"production": "v8", "candidate": "v9", "email": "v6"}
    v7, v8, v9 = (prompt.version(name) for name in ("v7", "v8", "v9"))
    changed = [row for row in side_by_side(v7.text, v8.text) if row.tag != "equal"]
    assert [(row.tag, row.right) for row in changed] == [("insert", texts.V8_POLICY_LINE)]
    assert "never discuss billing, accounts or security; refuse if unsure" in texts.V8_POLICY_LINE
    assert prompt.previous("v8") is v7
    assert [row.tag for row in side_by_side(v8.text, v9.text) if row.tag != "equal"] == ["replace"]
    assert (v7.parameters["max_tokens"], v8.parameters["max_tokens"]) == (600, 400)
    assert set(registry.prompts) == {"support-answer", "ticket-classifier", "summarize-thread"}


def test_the_demo_logs_agree_with_the_registry_but_for_the_story_drift(demo):
    registry = load_registry(demo.workdir / "prompts")
    hashes: dict[tuple[str, str], set[str]] = {}
    for path in demo.history:
        for line in path.read_bytes().splitlines():
            try:
                record = json.loads(line)
                key = (record["prompt_id"], record["prompt_version"])
            except (ValueError, KeyError, TypeError):
                continue
            hashes.setdefault(key, set()).add(record.get("prompt_hash") or "")
    rows = [type("Row", (), {"prompt_id": k[0], "prompt_version": k[1], "prompt_hashes": sorted(v)}) for k, v in hashes.items()]
    check = check_versions(rows, registry)
    assert check.unregistered == []
    assert [(d.prompt_id, d.prompt_version, d.logged_hashes) for d in check.drifted] == [
        ("summarize-thread", "v2", (prompt_hash("summarize-thread", "v2", drifted=True),))
    ]


def test_a_second_plan_keeps_edited_registry_files(demo):
    path = demo.workdir / "prompts" / "support-answer" / "v9.md"
    before = path.read_text()
    path.write_text(before + "Edited.\n")
    plan_demo(demo.workdir, rate=2.0, now=NOW)
    assert path.read_text() == before + "Edited.\n"
    path.write_text(before)


def regress(demo, version):
    result = runner.invoke(app, ["regress", "--json", "--config", str(demo.config), "--store",
                                 demo.store_url, "--prompt-version", version])
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else result.output


def test_the_demo_suite_passes_on_v7_and_v9_and_fails_on_v8(demo):
    lines = (demo.workdir / "regression" / "cases.jsonl").read_text().splitlines()
    cases = [json.loads(line) for line in lines]
    assert len(cases) == 8 and {c["source"]["prompt_version"] for c in cases} == {"v8"}
    assert {c["source"]["reason"] for c in cases} == {"refusal", "truncated"}
    code, doc = regress(demo, "v7")
    assert code == 0 and doc["counts"]["passed"] == 8, doc
    code, doc = regress(demo, "v8")
    assert code == 1 and doc["counts"]["failed"] == 8, doc
    code, doc = regress(demo, "v9")
    assert code == 0, doc
