"""When the writer outpaces the console, the header says by how many lines."""

from __future__ import annotations

from conftest import line_of, make_record
from console.sources.jsonl import JsonlTail
from console.live.tail import _behind_lines, _states
from console.live.events import SourceState
from console.ui.widgets.status_header import StatusHeader


def test_lines_behind_are_estimated_from_the_bytes_left(tmp_path):
    log = tmp_path / "app.jsonl"
    lines = [line_of(make_record()) for _ in range(2000)]
    log.write_text("".join(lines), encoding="utf-8")
    with JsonlTail([str(log)], watch=False, max_lines=500) as tail:
        tail.read_available()  # 500 of 2,000 lines
        [status] = tail.files
        assert status.line_no == 500
        assert abs(_behind_lines(status) - 1500) <= 15  # lines are of near-equal length
        [state] = _states(tail)
        assert state.behind_lines == _behind_lines(status)
        while tail.read_available().lines_read:
            pass
        assert _behind_lines(tail.files[0]) == 0


def test_the_header_says_the_console_is_behind():
    header = StatusHeader("sqlite:///x.db", ["app.jsonl"])
    header.sources = [SourceState("app.jsonl", "following", 10, 0, behind_lines=12_345)]
    assert "behind ~12,345 lines" in header._markup().replace("\xa0", " ")  # a part's spaces do not break
    header.sources = [SourceState("app.jsonl", "following", 10, 0, behind_lines=40)]
    assert "behind" not in header._markup()


def test_a_file_not_read_yet_and_lines_in_the_decoding_process_count_as_behind(tmp_path):
    """The demo: with its two history files opened but not read yet, and 16,000 lines in the
    decoding process's pipe, the header said nothing behind and the summary gave OK over
    30,000 of 46,000 rows (WARN a second later)."""
    from types import SimpleNamespace

    from console.live.live_writer import LiveWriter
    from console.live.tail import DeferringTail
    from console.sources.base import SourceBatch

    unread = SimpleNamespace(size=500_000, offset=0, line_no=0)
    assert _behind_lines(unread, mean_line=250.0) == 2_000
    assert _behind_lines(SimpleNamespace(size=0, offset=0, line_no=0)) == 0
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line_of(make_record()) for _ in range(100)), encoding="utf-8")
    with JsonlTail([str(log)], watch=False) as tail:
        while tail.read_available().lines_read:
            pass
        writer = LiveWriter(SimpleNamespace(sqlite_path=None), lambda batch: None, tail)
        writer._in_flight.append(SourceBatch(raw=[(str(log), 1, [b"{}"] * 5_000)]))
        writer._in_flight.append(SourceBatch(raw=[(str(log), 5_001, [b"{}"] * 3_000)]))
        [state] = _states(DeferringTail(tail, writer))
        assert state.behind_lines == 8_000  # read to the end, not committed yet
