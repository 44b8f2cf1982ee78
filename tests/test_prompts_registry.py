"""console/prompts: the registry in files, hashes, labels, render, diff, and its errors."""

from __future__ import annotations

import os

import pytest

from console.emit import normalise_prompt
from console.prompts.diff import changed_lines, side_by_side, unified_diff
from console.prompts.registry import (
    PromptError, content_hash, load_registry, normalise, registry_root,
)  # fmt: skip

V7 = "You are a support agent for {{ product }}.\nAnswer in {{language}}.\nBe brief.\n"
V8 = "You are a support agent for {{ product }}.\nAnswer in {{language}}.\nAlways offer a refund.\nBe brief.\n"


def make_registry(tmp_path):
    root = tmp_path / "prompts"
    (root / "support-answer").mkdir(parents=True)
    (root / "support-answer" / "v7.txt").write_text(V7)
    (root / "support-answer" / "v8.md").write_text("---\nmodel: gpt-4o\ntemperature: 0.2\n---\n" + V8)
    (root / "support-answer" / "v10.txt").write_text("Say hi.\n")
    (root / "support-answer" / "labels.toml").write_text('production = "v7"\ncandidate = "v8"\n')
    (root / "classifier").mkdir()
    (root / "classifier" / "v1.txt").write_text("Classify: {{ ticket }}")
    (root / "classifier" / "v1.toml").write_text('model = "gpt-4o-mini"\n[parameters]\nmax_tokens = 20\n')
    return root


def test_hash_is_stable_across_line_endings_and_trailing_whitespace():
    base = content_hash("line one\nline two")
    assert content_hash("line one\r\nline two\r\n") == base
    assert content_hash("line one   \nline two\t\n\n\n") == base
    assert content_hash("line one\nline  two") != base
    assert normalise("a \r\nb\n") == "a\nb"


@pytest.mark.parametrize("text", ["a\r\nb  \r\n", "", "\n\n", "x\ty \n\tz", "é \r\n\r\n", "a\rb"])
def test_emit_normalises_like_the_registry(text):
    assert normalise_prompt(text) == normalise(text)


def test_load_versions_in_natural_order_with_labels_and_metadata(tmp_path):
    registry = load_registry(make_registry(tmp_path))
    assert sorted(registry.prompts) == ["classifier", "support-answer"]
    prompt = registry.prompts["support-answer"]
    assert [v.version for v in prompt.versions] == ["v7", "v8", "v10"]
    assert prompt.labels == {"production": "v7", "candidate": "v8"}
    v8 = registry.get("support-answer", "v8")
    assert v8.labels == ("candidate",) and v8.model == "gpt-4o" and v8.parameters == {"temperature": 0.2}
    assert v8.text.startswith("You are") and v8.hash == content_hash(V8) and len(v8.short_hash) == 12
    assert v8.variables == ("product", "language")
    assert prompt.previous("v8").version == "v7" and prompt.previous("v7") is None
    c1 = registry.get("classifier", "v1")
    assert c1.model == "gpt-4o-mini" and c1.parameters == {"max_tokens": 20}
    assert registry.get("classifier", "v9") is None


def test_render_fills_variables_and_a_missing_one_is_an_error(tmp_path):
    registry = load_registry(make_registry(tmp_path))
    v7 = registry.get("support-answer", "v7")
    assert v7.render({"product": "Acme", "language": "French"}).startswith("You are a support agent for Acme.\nAnswer in French.")
    with pytest.raises(PromptError, match=r"v7\.txt: missing variable\(s\) for rendering: language"):
        v7.render({"product": "Acme"})
    plain = registry.get("support-answer", "v10")
    assert plain.render() == "Say hi.\n"


def test_a_missing_registry_is_empty_and_the_root_is_relative_to_the_config(tmp_path):
    assert load_registry(tmp_path / "nope").prompts == {}
    config = tmp_path / "app" / "llmops.toml"
    assert registry_root("prompts", str(config)) == (tmp_path / "app" / "prompts").resolve()
    assert str(registry_root("/abs/p", str(config))) == "/abs/p"


def test_duplicate_version_names_both_files(tmp_path):
    root = make_registry(tmp_path)
    (root / "support-answer" / "v7.md").write_text("other")
    with pytest.raises(PromptError, match=r"v7\.txt: duplicate version 'v7' \(also v7\.md\)"):
        load_registry(root)


def test_unreadable_and_undecodable_files_are_named(tmp_path):
    root = make_registry(tmp_path)
    bad = root / "classifier" / "v2.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(PromptError, match=r"classifier/v2\.txt: not UTF-8"):
        load_registry(root)
    bad.write_text("fine")
    if os.geteuid() != 0:
        bad.chmod(0)
        with pytest.raises(PromptError, match=r"classifier/v2\.txt: cannot be read"):
            load_registry(root)
        bad.chmod(0o644)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("labels.toml", 'production = "v99"\n', r"labels\.toml: label 'production' names version 'v99'"),
        ("labels.toml", "production = 7\n", r"labels\.toml: label 'production' must name a version"),
        ("labels.toml", "production = \n", r"labels\.toml: not valid TOML"),
        ("v11.txt", "---\nmodel: x\nno closing", r"v11\.txt: front matter .* never closed"),
        ("v11.txt", "---\njust words\n---\nbody", r"v11\.txt:2: front matter lines are 'key: value'"),
        ("v11.txt", "Hello {{ name", r"v11\.txt: line 1: '\{\{' is never closed"),
    ],
)
def test_invalid_files_are_named(tmp_path, name, text, message):
    root = make_registry(tmp_path)
    (root / "support-answer" / name).write_text(text)
    with pytest.raises(PromptError, match=message):
        load_registry(root)


def test_unified_and_side_by_side_diff(tmp_path):
    registry = load_registry(make_registry(tmp_path))
    v7, v8 = registry.get("support-answer", "v7"), registry.get("support-answer", "v8")
    text = unified_diff(v7, v8)
    assert f"--- support-answer@v7 ({v7.short_hash})" in text
    # the header, the one line, and v8's front matter (model and temperature: v7 has none)
    assert "+Always offer a refund." in text and "+model: gpt-4o" in text and text.count("\n+") == 4
    assert unified_diff(v7, v7) == ""
    rows = side_by_side(V7, V8.replace("\n", "\r\n"))
    assert changed_lines(rows) == 1
    inserted = next(row for row in rows if row.tag != "equal")
    assert inserted.tag == "insert" and inserted.left_number is None and inserted.right == "Always offer a refund."
    replaced = side_by_side("a\nb\nc", "a\nB\nB2\nc")
    assert [(r.tag, r.left, r.right) for r in replaced] == [
        ("equal", "a", "a"), ("replace", "b", "B"), ("replace", "", "B2"), ("equal", "c", "c"),
    ]
