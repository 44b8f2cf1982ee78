"""The JSONL tail: appends, partial lines, truncation, rotation, globs, bad lines, resume."""

from __future__ import annotations

import json
import os
import random
import threading
import time

import pytest

from console.records import MAX_LINE_BYTES
from console.sources import jsonl
from console.sources.base import FilePosition
from console.sources.jsonl import JsonlTail


def rec(i: int, **overrides) -> bytes:
    """One valid schema v1 line (no newline)."""
    obj = {
        "ts": "2025-03-01T12:00:00Z",
        "request_id": f"req-{i}",
        "model": "gpt-4o-mini",
        "prompt_id": "support",
        "prompt_version": "v3",
        "input_tokens": 120,
        "output_tokens": 40,
        "latency_ms": 812.5,
        "status": "ok",
    }
    obj.update(overrides)
    return json.dumps({k: v for k, v in obj.items() if v is not None}).encode()


def lines(*items: bytes, end: bytes = b"\n") -> bytes:
    return b"".join(item + end for item in items)


def append(path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def ids(batch) -> list[str]:
    return [r.request_id for r in batch.records]


@pytest.fixture
def make_tail():
    tails: list[JsonlTail] = []

    def make(*args, **kwargs) -> JsonlTail:
        tail = JsonlTail(*args, **kwargs)
        tails.append(tail)
        return tail

    yield make
    for tail in tails:
        tail.close()


@pytest.fixture(params=["big", "tiny"])
def chunk(request, monkeypatch):
    """Run a test with real 1 MiB chunks and with 7-byte chunks (every line crosses a boundary)."""
    if request.param == "tiny":
        monkeypatch.setattr(jsonl, "CHUNK_BYTES", 7)
    return request.param


def status(tail: JsonlTail, path) -> jsonl.FileStatus:
    (found,) = [f for f in tail.files if f.path == str(path)]
    return found


def test_append_is_read_and_positions_advance(tmp_path, make_tail, chunk):
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2), rec(3)))
    tail = make_tail([log])
    batch = tail.read_available()
    assert ids(batch) == ["req-1", "req-2", "req-3"]
    assert batch.rejected == [] and batch.lines_read == 3 and not tail.has_more
    pos = batch.positions[str(log)]
    assert pos == FilePosition(str(log), os.stat(log).st_ino, log.stat().st_size, 3)

    assert not tail.read_available()  # nothing new: empty batch, no positions
    append(log, lines(rec(4), rec(5)))
    batch = tail.read_available()
    assert ids(batch) == ["req-4", "req-5"]
    assert batch.positions[str(log)].line_no == 5
    st = status(tail, log)
    assert (st.state, st.lines_ok, st.offset, st.size) == ("following", 5, log.stat().st_size, log.stat().st_size)


def test_partial_line_is_held_until_its_newline(tmp_path, make_tail, chunk):
    log = tmp_path / "app.jsonl"
    second = rec(2)
    append(log, lines(rec(1)) + second[:20])
    tail = make_tail([log])
    batch = tail.read_available()
    assert ids(batch) == ["req-1"] and batch.rejected == []
    assert batch.positions[str(log)].offset == len(rec(1)) + 1
    append(log, second[20:])  # still no newline
    assert not tail.read_available()
    append(log, b"\n")
    batch = tail.read_available()
    assert ids(batch) == ["req-2"]
    assert batch.positions[str(log)].offset == log.stat().st_size
    assert batch.positions[str(log)].line_no == 2


def test_crlf_and_blank_lines(tmp_path, make_tail, chunk):
    log = tmp_path / "app.jsonl"
    append(log, rec(1) + b"\r\n\r\n\n   \n" + b"{oops\r\n" + rec(2) + b"\r\n")
    tail = make_tail([log])
    batch = tail.read_available()
    assert ids(batch) == ["req-1", "req-2"]
    (bad,) = batch.rejected
    assert (bad.line_no, bad.excerpt) == (5, "{oops")
    assert batch.positions[str(log)].line_no == 6


def test_truncation_restarts_from_zero(tmp_path, make_tail, chunk):
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2), rec(3)))
    tail = make_tail([log])
    assert len(tail.read_available().records) == 3
    inode = os.stat(log).st_ino
    with open(log, "r+b") as f:  # copytruncate: same inode, cut to zero, the app goes on
        f.truncate(0)
    append(log, lines(rec(4)))
    batch = tail.read_available()
    assert ids(batch) == ["req-4"]
    assert batch.positions[str(log)] == FilePosition(str(log), inode, len(rec(4)) + 1, 1)
    append(log, b"not json\n")
    assert tail.read_available().rejected[0].line_no == 2


@pytest.mark.parametrize("how", ["rename", "delete"])
def test_rotation_finishes_old_file_then_follows_new(tmp_path, make_tail, chunk, how):
    log = tmp_path / "app.jsonl"
    writer = open(log, "ab", buffering=0)  # the app's handle, kept across the rotation
    try:
        writer.write(lines(rec(1), rec(2)))
        tail = make_tail([log])
        assert ids(tail.read_available()) == ["req-1", "req-2"]
        old_inode = os.stat(log).st_ino

        if how == "rename":
            log.rename(tmp_path / "app.jsonl.1")
        else:
            log.unlink()
        writer.write(lines(rec(3)))  # written after rotation, before the new file exists
        batch = tail.read_available()
        assert ids(batch) == ["req-3"]
        assert batch.positions[str(log)].inode == old_inode
        assert status(tail, log).state == ("following" if how == "rename" else "deleted, draining")

        writer.write(lines(rec(4)) + rec(5)[:10])  # more to the old file, ending mid-line
        writer.close()
        append(log, lines(rec(6)))  # logrotate's create; the app reopens and writes
        batch = tail.read_available()
        assert ids(batch) == ["req-4", "req-6"]
        pos = batch.positions[str(log)]
        assert pos == FilePosition(str(log), os.stat(log).st_ino, len(rec(6)) + 1, 1)
        assert pos.inode != old_inode or how == "delete"  # a deleted inode may be reused
        append(log, lines(rec(7)))
        assert ids(tail.read_available()) == ["req-7"]
    finally:
        writer.close()


def test_rotated_name_matching_the_glob_is_not_read_twice(tmp_path, make_tail):
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2)))
    tail = make_tail([tmp_path / "app.jsonl*"])
    assert ids(tail.read_available()) == ["req-1", "req-2"]
    log.rename(tmp_path / "app.jsonl.1")
    append(tmp_path / "app.jsonl.1", lines(rec(3)))
    append(log, lines(rec(4)))
    batch = tail.read_available()
    assert sorted(ids(batch)) == ["req-3", "req-4"]
    assert batch.positions[str(tmp_path / "app.jsonl.1")].line_no == 3


def test_late_created_file_is_waiting_then_followed(tmp_path, make_tail):
    log = tmp_path / "later" / "deeper" / "app.jsonl"
    tail = make_tail([log])
    assert not tail.read_available()
    st = status(tail, log)
    assert (st.state, st.size, st.offset) == ("waiting", 0, 0)
    log.parent.mkdir(parents=True)
    append(log, lines(rec(1)))
    assert ids(tail.read_available()) == ["req-1"]
    assert status(tail, log).state == "following"


def test_glob_picks_up_new_files(tmp_path, make_tail):
    (tmp_path / "a.jsonl").write_bytes(lines(rec(1)))
    (tmp_path / "notes.txt").write_bytes(b"not a log\n")
    (tmp_path / "sub").mkdir()
    tail = make_tail([tmp_path / "*.jsonl", str(tmp_path / "deep") + "/**/*.jsonl"])
    assert ids(tail.read_available()) == ["req-1"]
    (tmp_path / "b.jsonl").write_bytes(lines(rec(2)))
    (tmp_path / "deep" / "x" / "y").mkdir(parents=True)
    (tmp_path / "deep" / "x" / "y" / "c.jsonl").write_bytes(lines(rec(3)))
    batch = tail.read_available()
    assert sorted(ids(batch)) == ["req-2", "req-3"]
    assert sorted(f.path for f in tail.files) == sorted(
        str(p) for p in (tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "deep/x/y/c.jsonl")
    )


def test_malformed_lines_are_rejected_with_line_numbers(tmp_path, make_tail, chunk):
    log = tmp_path / "app.jsonl"
    append(log, lines(
        rec(1),
        b'{"ts": "2025-03-01T12:00:00Z", "request_id": ',  # 2: bad JSON
        rec(3, model=None),  # 3: missing core field
        rec(4, input_tokens="many"),  # 4: wrong type
        rec(5, request_id="caf\xe9").replace("caf\\u00e9".encode(), b"caf\xe9"),  # 5: invalid UTF-8
        b"[1, 2]",  # 6: not an object
        rec(7),
    ))
    tail = make_tail([log])
    batch = tail.read_available()
    assert ids(batch) == ["req-1", "req-7"]
    got = {r.line_no: r for r in batch.rejected}
    assert sorted(got) == [2, 3, 4, 5, 6]
    assert all(r.path == str(log) for r in batch.rejected)
    assert "JSON" in got[2].reason
    assert "model" in got[3].reason
    assert "input_tokens" in got[4].reason
    assert "UTF-8" in got[5].reason and "\ufffd" in got[5].excerpt
    assert got[2].excerpt == '{"ts": "2025-03-01T12:00:00Z", "request_id": '
    assert got[4].excerpt == rec(4, input_tokens="many").decode()  # a log line's length: kept whole
    st = status(tail, log)
    assert (st.lines_ok, st.lines_rejected) == (2, 5)


def test_overlong_line_is_skipped_without_buffering(tmp_path, make_tail, monkeypatch):
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 64 * 1024)
    log = tmp_path / "app.jsonl"
    huge = b'{"x": "' + b"\x01" + b"A" * int(1.1 * MAX_LINE_BYTES)  # control char kept as is
    append(log, lines(rec(1)) + huge)
    tail = make_tail([log])
    batch = tail.read_available()
    assert ids(batch) == ["req-1"] and batch.rejected == []
    reader = tail._tracked[str(log)].reader
    assert len(reader.partial) <= MAX_LINE_BYTES  # not held whole
    assert status(tail, log).offset == len(rec(1)) + 1  # not past the unfinished line
    append(log, b"\n" + lines(rec(3)))
    batch = tail.read_available()
    assert ids(batch) == ["req-3"]
    (bad,) = batch.rejected
    assert bad.line_no == 2 and "1 MiB" in bad.reason
    # its start (what the excerpt holds), then a mark that the rest was not kept
    head = '{"x": "\x01' + "A" * (jsonl.EXCERPT_CHARS - 8)
    assert bad.excerpt == f"{head} «… the rest of its {len(huge):,} bytes was not kept …»"
    assert batch.positions[str(log)].offset == log.stat().st_size
    assert batch.positions[str(log)].line_no == 3


def test_resume_same_inode_continues(tmp_path, make_tail):
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2), rec(3)))
    first = make_tail([log])
    positions = first.read_available().positions
    first.close()
    append(log, lines(rec(4), b"bad"))
    tail = make_tail([str(log)], positions)
    batch = tail.read_available()
    assert ids(batch) == ["req-4"]
    assert batch.rejected[0].line_no == 5
    assert batch.positions[str(log)].line_no == 5


def test_resume_without_new_lines_reports_nothing(tmp_path, make_tail):
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1)))
    pos = FilePosition(str(log), os.stat(log).st_ino, log.stat().st_size, 1)
    tail = make_tail([log], {str(log): pos})
    assert not tail.read_available()
    assert status(tail, log).line_no == 1


@pytest.mark.parametrize("change", ["inode", "shrunk"])
def test_resume_changed_file_starts_over(tmp_path, make_tail, change):
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2), rec(3)))
    pos = FilePosition(str(log), os.stat(log).st_ino, log.stat().st_size, 3)
    if change == "inode":
        (tmp_path / "new").write_bytes(lines(rec(10), rec(11), rec(12), rec(13)))
        os.replace(tmp_path / "new", log)
        expected = ["req-10", "req-11", "req-12", "req-13"]
    else:
        log.write_bytes(lines(rec(10)))  # same inode, truncated and rewritten
        expected = ["req-10"]
    tail = make_tail([log], {str(log): pos})
    batch = tail.read_available()
    assert ids(batch) == expected
    assert batch.positions[str(log)].line_no == len(expected)


def test_unreadable_file_is_reported_and_others_go_on(tmp_path, make_tail, monkeypatch):
    bad, good = tmp_path / "bad.jsonl", tmp_path / "good.jsonl"
    bad.write_bytes(lines(rec(1)))
    good.write_bytes(lines(rec(2)))
    real_open = os.open

    def fake_open(path, *args, **kwargs):
        if os.fspath(path) == str(bad):
            raise PermissionError(13, "Permission denied", str(bad))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)
    tail = make_tail([bad, good])
    assert ids(tail.read_available()) == ["req-2"]
    assert status(tail, bad).state == "unreadable: permission denied"
    monkeypatch.setattr(os, "open", real_open)  # fixed: picked up on the next read
    assert ids(tail.read_available()) == ["req-1"]
    assert status(tail, bad).state == "following"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_chmod_000_file_is_unreadable(tmp_path, make_tail):
    log = tmp_path / "app.jsonl"
    log.write_bytes(lines(rec(1)))
    log.chmod(0)
    tail = make_tail([log])
    assert not tail.read_available()
    assert status(tail, log).state == "unreadable: permission denied"


def test_vanished_file_and_directory_are_states_not_errors(tmp_path, make_tail):
    log, other = tmp_path / "gone.jsonl", tmp_path / "other.jsonl"
    log.write_bytes(lines(rec(1)))
    (tmp_path / "adir").mkdir()
    tail = make_tail([tmp_path / "*.jsonl", tmp_path / "adir"])
    assert ids(tail.read_available()) == ["req-1"]
    assert status(tail, tmp_path / "adir").state == "unreadable: not a regular file"
    log.unlink()
    other.write_bytes(lines(rec(2)))
    assert ids(tail.read_available()) == ["req-2"]


def test_max_lines_bounds_batches_and_repeated_calls_drain(tmp_path, make_tail, chunk):
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    paths[0].write_bytes(lines(*(rec(i) for i in range(150))))
    paths[1].write_bytes(lines(*(rec(i) for i in range(150, 250))))
    tail = make_tail(paths, max_lines=40)
    seen: list[str] = []
    batches = 0
    while True:
        batch = tail.read_available()
        batches += 1
        assert batch.lines_read <= 40 and len(batch.records) <= 40
        seen += ids(batch)
        if not tail.has_more:
            break
        assert batches < 20
    assert sorted(seen) == sorted(f"req-{i}" for i in range(250))
    assert batches >= 7
    assert {f.path: f.line_no for f in tail.files} == {str(paths[0]): 150, str(paths[1]): 100}


def test_every_non_blank_line_is_accepted_or_rejected(tmp_path, make_tail, chunk):
    rng = random.Random(7)
    log = tmp_path / "app.jsonl"
    content, good, bad = [], [], 0
    for i in range(300):
        kind = rng.random()
        if kind < 0.1:
            content.append(rng.choice([b"", b"  ", b"\r"]))
        elif kind < 0.3:
            content.append(rng.choice([b"{", b"null", rec(i, status="maybe"), rec(i, ts=None)]))
            bad += 1
        else:
            content.append(rec(i))
            good.append(f"req-{i}")
    data = b"".join(line + rng.choice([b"\n", b"\r\n"]) for line in content)
    tail = make_tail([log], max_lines=50)
    got, rejected, cut = [], 0, 0
    while cut < len(data):  # appended in random pieces, read after each
        step = rng.randint(1, 4000)
        append(log, data[cut:cut + step])
        cut += step
        while True:
            batch = tail.read_available()
            got += ids(batch)
            rejected += len(batch.rejected)
            if not tail.has_more:
                break
    assert got == good and rejected == bad
    st = status(tail, log)
    assert st.lines_ok + st.lines_rejected == len(good) + bad
    assert st.line_no == len(content) and st.offset == len(data)


def test_watcher_wakes_on_append_and_close_stops_it(tmp_path, make_tail):
    log = tmp_path / "app.jsonl"
    log.write_bytes(b"")
    tail = make_tail([log])
    tail.read_available()
    assert tail.watching
    assert wakes_on_append(tail, log)
    assert len(tail.read_available().records) >= 1
    watcher_threads = list(tail._watcher._threads)
    tail.close()
    tail.close()  # idempotent
    assert not any(t.is_alive() for t in watcher_threads)
    assert tail.wait_for_change(0.01) is False
    assert not tail.read_available()


def wakes_on_append(tail: JsonlTail, path) -> bool:
    for i in range(10):  # the watch may take a moment to be established
        append(path, lines(rec(i)))
        if tail.wait_for_change(2.0):
            return True
    return False


def test_watcher_follows_a_directory_created_later(tmp_path, make_tail):
    log = tmp_path / "later" / "app.jsonl"
    tail = make_tail([log])
    assert tail.watching  # on tmp_path, the deepest existing ancestor, for now
    log.parent.mkdir()
    log.touch()
    tail.read_available()  # notices the new directory and watches it instead
    assert tail.watching
    tail.wait_for_change(0.01)
    assert wakes_on_append(tail, log)
    assert tail.read_available().records


def test_watcher_on_recursive_glob_wakes_for_nested_files(tmp_path, make_tail):
    nested = tmp_path / "logs" / "a" / "b" / "app.jsonl"
    nested.parent.mkdir(parents=True)
    tail = make_tail([str(tmp_path / "logs") + "/**/*.jsonl"])
    tail.read_available()
    assert tail.watching
    assert wakes_on_append(tail, nested)
    assert tail.read_available().records


def test_follow_loop_picks_up_appends_quickly(tmp_path, make_tail):
    log = tmp_path / "app.jsonl"
    log.write_bytes(b"")
    seen = threading.Event()
    with make_tail([log]) as tail:
        def loop():
            while not tail._closed:
                if tail.read_available().records:
                    seen.set()
                tail.wait_for_change(0.1)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        start = time.monotonic()
        append(log, lines(rec(1)))
        assert seen.wait(5.0)  # the design target is 250 ms; this only guards against hangs
        assert time.monotonic() - start < 5.0
    thread.join(2.0)
    assert not thread.is_alive()


def test_watchfiles_failure_falls_back_to_polling(tmp_path, make_tail, monkeypatch):
    import watchfiles

    def broken(*args, **kwargs):
        raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watchfiles, "watch", broken)
    log = tmp_path / "app.jsonl"
    tail = make_tail([log])
    for thread in tail._watcher._threads:
        thread.join(2.0)
    assert not tail.watching
    assert tail.wait_for_change(0.01) is False
    append(log, lines(rec(1)))
    assert ids(tail.read_available()) == ["req-1"]


@pytest.mark.parametrize("rotated_name", ["app.jsonl.1", "app.jsonl-20261207"])
def test_a_rotation_while_the_console_was_away_reads_the_rest_of_the_rotated_file(
        tmp_path, make_tail, chunk, rotated_name):
    """Found in the live-tail trial: the console quit (or killed), the app wrote on, logrotate
    renamed the file and the app reopened a new one; restarted, the console read the new
    file from 0 and the old file's lines after the saved offset were lost without a word
    (585 requests in the trial). The saved inode is looked for beside the path under a
    rotated name and read on from the saved offset first."""
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2)))
    first = make_tail([log])
    positions = first.read_available().positions
    first.close()
    append(log, lines(rec(3), rec(4)))  # written while the console was away
    log.rename(tmp_path / rotated_name)
    append(log, lines(rec(5), rec(6)))  # the app's new file
    (tmp_path / "other.jsonl").write_bytes(lines(rec(9)))  # a sibling not named after the log
    tail = make_tail([log], positions)
    got, last = [], None
    for _ in range(4):
        batch = tail.read_available()
        got += ids(batch)
        last = batch.positions.get(str(log), last)
    assert got == ["req-3", "req-4", "req-5", "req-6"]
    assert last == FilePosition(str(log), log.stat().st_ino, log.stat().st_size, 2)


def test_a_copytruncate_while_the_console_was_away_is_not_resumed_mid_line(tmp_path, make_tail, chunk):
    """Found in the live-tail user trial: logrotate's copytruncate ran while no console did,
    and the app wrote past the saved offset before the restart; the same inode, long enough,
    was resumed at the old offset, in the middle of a new line: the lines before it were lost
    and the rest of the cut line was rejected ('not a JSON object', at a wrong line number).
    A saved offset must end a line; one that does not starts the file over."""
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2), rec(3)))
    first = make_tail([log])
    positions = first.read_available().positions
    first.close()
    with open(log, "r+b") as f:  # copytruncate: same inode, cut to zero, the app goes on
        f.truncate(0)
    append(log, lines(*(rec(i, output="x" * i) for i in range(10, 16))))
    assert log.stat().st_size > positions[str(log)].offset
    tail = make_tail([log], positions)
    batch = tail.read_available()
    assert ids(batch) == [f"req-{i}" for i in range(10, 16)] and batch.rejected == []
    assert batch.positions[str(log)].line_no == 6


def copytruncate(log) -> None:
    """logrotate's copytruncate: the file copied to app.jsonl.1, then cut to zero in place."""
    (log.parent / (log.name + ".1")).write_bytes(log.read_bytes())
    with open(log, "r+b") as f:
        f.truncate(0)


@pytest.mark.parametrize("away", [False, True])
def test_copytruncate_reads_the_lines_not_read_yet_from_the_copy(tmp_path, make_tail, chunk, away):
    """Found in the live-tail user trial: at ~2,000 lines/s a copytruncate lost the 1,079
    lines written in the half second before it (in the copy app.jsonl.1, never read: the tail
    started the cut file over), and with no console running, every line written between the
    quit and the rotation (156). The copy, found beside the log and holding the last line read
    just before the offset reached, is read on from there first, then the log from 0."""
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2), rec(3)))
    tail = make_tail([log])
    batch = tail.read_available()
    assert ids(batch) == ["req-1", "req-2", "req-3"]
    positions = batch.positions
    if away:
        tail.close()
    append(log, lines(rec(4), rec(5)))  # written, not read yet
    copytruncate(log)
    append(log, lines(rec(6)))
    if away:
        tail = make_tail([log], positions)
    got, last = [], None
    for _ in range(4):
        batch = tail.read_available()
        got += ids(batch)
        last = batch.positions.get(str(log), last)
    assert got == ["req-4", "req-5", "req-6"]
    assert last == FilePosition(str(log), log.stat().st_ino, log.stat().st_size, 1)


def test_an_older_copy_that_does_not_hold_the_last_line_read_is_not_read(tmp_path, make_tail):
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1), rec(2), rec(3)))
    tail = make_tail([log])
    assert len(tail.read_available().records) == 3
    (tmp_path / "app.jsonl.1").write_bytes(lines(rec(7), rec(8), rec(9), rec(10), rec(11)))  # another day's copy
    with open(log, "r+b") as f:
        f.truncate(0)
    append(log, lines(rec(6)))
    assert ids(tail.read_available()) + ids(tail.read_available()) == ["req-6"]
