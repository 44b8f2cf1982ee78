"""The prompt diff's title says what changed in words. Found in a user trial of the demo:
`support-answer@v7 → support-answer@v8: 1 line(s) changed` where v8 only added a line."""

from __future__ import annotations

from console.prompts.diff import change_summary, settings_summary, side_by_side


def test_an_added_line_is_said_added_not_changed():
    assert change_summary(side_by_side("a\nb\n", "a\nb\nc\n")) == "1 line added"
    assert change_summary(side_by_side("a\nb\nc\n", "a\n")) == "2 lines removed"


def test_a_replaced_block_is_changed_lines_then_the_lines_without_a_pair():
    assert change_summary(side_by_side("a\nb\nc", "a\nB\nc")) == "1 line changed"
    assert change_summary(side_by_side("a\nb\nc", "a\nB\nB2\nc")) == "1 line changed, 1 added"
    assert change_summary(side_by_side("x\ny\nz\nkeep", "X\nkeep\nnew")) == "1 line changed, 2 removed, 1 added"


def test_no_change_and_the_settings_are_said_too():
    assert change_summary(side_by_side("a\nb", "a\nb\n")) == "no line changed"
    rows = side_by_side("---\nmax_tokens: 600\n---", "---\nmax_tokens: 400\n---")
    assert settings_summary([row for row in rows if "max_tokens" in row.left + row.right]) == "1 setting changed (max_tokens)"
    assert settings_summary([]) == ""
