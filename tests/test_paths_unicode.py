"""Paths with spaces and non-ASCII characters work end to end (issue 8): a log file, the
store, llmops.toml, the prompt registry, the suite and the replay file all live under
"my logs/données ✓/", through ingest, report, regress (replay and python targets),
prompts list and labels export."""

from __future__ import annotations

import csv
import json
import time

import pytest
from typer.testing import CliRunner

from conftest import line_of, make_record
from console.cli import app

pytestmark = pytest.mark.resilience

runner = CliRunner()
NOW = "2026-11-20T12:00:00Z"


@pytest.fixture
def project(tmp_path, monkeypatch):
    base = tmp_path / "my logs" / "données ✓"
    (base / "cases ✓").mkdir(parents=True)
    (base / "prompts ✓" / "support").mkdir(parents=True)
    (base / "prompts ✓" / "support" / "v1.txt").write_text("Answer politely: {question}\n", encoding="utf-8")
    start = 1_795_089_600.0 - 3600  # an hour before NOW
    records = [make_record(ts=start + 60 * i, request_id=f"réq-{i} ✓", output=f"réponse {i} ✓") for i in range(20)]
    (base / "app log ✓.jsonl").write_text("".join(line_of(r) + "\n" for r in records), encoding="utf-8")
    (base / "cases ✓" / "cases.jsonl").write_text(
        "".join(
            json.dumps({"id": f"cas {i} ✓", "input": {"vars": {"q": f"q {i} é"}},
                        "assert": [{"type": "contains", "value": "✓"}]}, ensure_ascii=False) + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )  # fmt: skip
    (base / "replay ✓.jsonl").write_text(
        "".join(json.dumps({"id": f"cas {i} ✓", "output": f"rejoué {i} ✓"}, ensure_ascii=False) + "\n" for i in range(3)),
        encoding="utf-8",
    )
    (base / "unicode_target_mod.py").write_text("def answer(case):\n    return 'dit ' + case['input']['vars']['q'] + ' ✓'\n")
    (base / "llmops ✓.toml").write_text(
        """
[prompts]
path = "prompts ✓"

[regression]
suite = "cases ✓/cases.jsonl"

[regression.targets."rejoué"]
type = "replay"
path = "replay ✓.jsonl"

[regression.targets.py]
type = "python"
function = "unicode_target_mod:answer"
""",
        encoding="utf-8",
    )
    monkeypatch.chdir(base)  # the python target's module is imported from the working directory
    return base


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def test_ingest_report_regress_and_export_under_a_path_with_spaces_and_unicode(project):
    store = str(project / "store ✓.db")
    config = str(project / "llmops ✓.toml")

    ingested = cli("ingest", str(project / "app log ✓.jsonl"), "--store", store, "--config", config)
    assert ingested.exit_code == 0, ingested.output
    assert "20 rows added" in ingested.stdout and "0 lines rejected" in ingested.stdout

    report = cli("report", "--store", store, "--config", config, "--since", "all", "--now", NOW, "--json")
    assert report.exit_code == 0, report.output
    assert "réq" not in report.stderr
    assert json.loads(report.stdout)["window"]

    url = cli("report", "--store", f"sqlite:///{project / 'store ✓.db'}", "--since", "all", "--now", NOW, "--json")
    assert url.exit_code == 0, url.output
    assert json.loads(url.stdout) == json.loads(report.stdout), "the path and the sqlite URL open the same store"

    for target in ("rejoué", "py"):
        run = cli("regress", "--config", config, "--target", target, "--store", store, "--baseline", "none", "--json")
        assert run.exit_code == 0, run.output
        doc = json.loads(run.stdout)
        assert doc["target"] == target
        assert doc["counts"]["passed"] == 3, doc["counts"]

    listed = cli("prompts", "list", "--config", config, "--json")
    assert listed.exit_code == 0, listed.output
    (version,) = json.loads(listed.stdout)
    assert (version["prompt_id"], version["version"]) == ("support", "v1") and "prompts ✓" in version["path"]

    from console.store import Store
    from console.store.evaluation import EvaluationStore

    opened = Store(store)
    EvaluationStore(opened).add_label("réq-3 ✓", "bad", author="zoé", reason="tone", note="trop sec ✓",
                                      created_at=time.time())  # fmt: skip
    opened.close()
    out = project / "export ✓" / "labels é.csv"
    out.parent.mkdir()
    exported = cli("labels", "export", "--store", store, "--format", "csv", "--output", str(out))
    assert exported.exit_code == 0, exported.output
    (row,) = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert (row["request_id"], row["note"], row["output"]) == ("réq-3 ✓", "trop sec ✓", "réponse 3 ✓")
