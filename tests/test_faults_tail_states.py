"""A log deleted while the tail holds it open (issue 8): it is not shown as 'following' while
its open descriptor is drained. States: 'deleted, draining' while it is read to its end and
for DELETED_GRACE_S after (the app may still write to its descriptor), then 'gone' with the
descriptor closed (the disk space freed); 'following' again when the path is created anew.
No line is lost or read twice on the way."""

from __future__ import annotations

import os
import time

import pytest

from console.sources import jsonl
from test_tail import append, ids, lines, rec, status

pytestmark = pytest.mark.resilience


@pytest.fixture
def make_tail():
    tails = []

    def make(*args, **kwargs):
        tail = jsonl.JsonlTail(*args, watch=False, **kwargs)
        tails.append(tail)
        return tail

    yield make
    for tail in tails:
        tail.close()


def open_fds_on(path_inode: int) -> int:
    """Descriptors of this process open on the inode (Linux /proc)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.stat(f"/proc/self/fd/{fd}").st_ino == path_inode:
                count += 1
        except OSError:
            pass
    return count


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors through /proc")
def test_a_deleted_log_is_draining_then_gone_and_every_line_is_read_once(tmp_path, make_tail, monkeypatch):
    monkeypatch.setattr(jsonl, "DELETED_GRACE_S", 0.3)
    log = tmp_path / "app.jsonl"
    append(log, lines(*(rec(i) for i in range(1, 6))))
    tail = make_tail([log], max_lines=2)
    assert ids(tail.read_available()) == ["req-1", "req-2"]
    inode = log.stat().st_ino
    log.unlink()  # deleted with 3 lines still unread

    batch = tail.read_available()
    assert ids(batch) == ["req-3", "req-4"]
    assert status(tail, log).state == "deleted, draining", "not 'following': the file is gone from disk"
    batch = tail.read_available()
    assert ids(batch) == ["req-5"]
    assert status(tail, log).state == "deleted, draining"  # read to its end: the grace period runs
    assert open_fds_on(inode) == 1
    time.sleep(0.35)
    assert not tail.read_available()
    st = status(tail, log)
    assert (st.state, st.size) == ("gone", 0)
    assert open_fds_on(inode) == 0, "the descriptor is closed: the disk space is freed"
    assert not tail.read_available() and status(tail, log).state == "gone"

    append(log, lines(rec(6)))  # the app creates the log again
    assert ids(tail.read_available()) == ["req-6"]
    assert status(tail, log).state == "following"


def test_an_app_still_writing_to_the_deleted_file_keeps_it_draining(tmp_path, make_tail, monkeypatch):
    monkeypatch.setattr(jsonl, "DELETED_GRACE_S", 0.3)
    log = tmp_path / "app.jsonl"
    writer = open(log, "ab", buffering=0)  # the app's handle, still open after the delete
    try:
        writer.write(lines(rec(1)))
        tail = make_tail([log])
        assert ids(tail.read_available()) == ["req-1"]
        log.unlink()
        seen = []
        for i in range(2, 6):  # the app writes on, every 0.2 s: less than the grace each time
            writer.write(lines(rec(i)))
            seen += ids(tail.read_available())
            assert status(tail, log).state == "deleted, draining"
            time.sleep(0.2)
        seen += ids(tail.read_available())
        assert seen == ["req-2", "req-3", "req-4", "req-5"]
        writer.write(rec(6)[:20])  # the app dies mid-line
        time.sleep(0.35)
        batch = tail.read_available()
        assert status(tail, log).state == "deleted, draining"  # it grew: the grace starts again
        time.sleep(0.35)
        batch = tail.read_available()
        assert status(tail, log).state == "gone"
        (rejected,) = batch.rejected
        assert rejected.line_no == 6 and "incomplete last line" in rejected.reason and "deleted file" in rejected.reason
    finally:
        writer.close()


def test_a_renamed_log_not_yet_recreated_is_still_following(tmp_path, make_tail, monkeypatch):
    monkeypatch.setattr(jsonl, "DELETED_GRACE_S", 0.0)
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1)))
    tail = make_tail([log])
    assert ids(tail.read_available()) == ["req-1"]
    log.rename(tmp_path / "app.jsonl.1")  # rotated; the app writes on until it reopens
    append(tmp_path / "app.jsonl.1", lines(rec(2)))
    assert ids(tail.read_available()) == ["req-2"]
    assert status(tail, log).state == "following"
    (tmp_path / "app.jsonl.1").unlink()  # now deleted too: drained (nothing left), then gone
    assert not tail.read_available()
    assert status(tail, log).state == "gone"


def test_the_live_view_shows_the_states_on_the_header(tmp_path, monkeypatch):
    """The worker hands the tail's states to the UI as they are: what the header lists."""
    from console.live import tail as live_tail

    monkeypatch.setattr(jsonl, "DELETED_GRACE_S", 60.0)
    log = tmp_path / "app.jsonl"
    append(log, lines(rec(1)))
    tail = jsonl.JsonlTail([log], watch=False)
    try:
        tail.read_available()
        log.unlink()
        tail.read_available()
        (state,) = live_tail._states(tail)
        assert (state.path, state.state) == (str(log), "deleted, draining")
    finally:
        tail.close()
