"""The watcher: the tracker's decisions with a clock of the test's own, then real file events.

Tests with real events wait by polling until a condition holds (generous time-outs), never by
a fixed sleep standing in for an assertion, so that a loaded machine makes them slower, not red.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import WEEK1, deal, mpc_path, save_mpc

from sheetsales.outputs.report import build_summary
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import MPC_TABLE
from sheetsales.service.settings import WatchSettings
from sheetsales.service.watch import InboxTracker, SourceUnavailable, Watcher, opens_as_workbook
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import IngestResult, ingest

# --------------------------------------------------------------------------------------------
# The tracker, driven by a clock of the test's own
# --------------------------------------------------------------------------------------------
TRACK = WatchSettings(debounce=2.0, settle=1.0, max_tries=3, retry_delay=1.0, max_wait=60.0, batch_wait=10.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def workbook_bytes(ws: Workspace, rep: str, rows: list[dict], tmp: Path) -> bytes:
    """What Excel would write for ``rows`` in ``rep``'s MPC list (built privately, not in the inbox)."""
    out = tmp / f"build-{rep}-{time.monotonic_ns()}.xlsx"
    fill_table(mpc_path(ws, rep), MPC_TABLE, rows, out=out)
    data = out.read_bytes()
    out.unlink()
    return data


@pytest.fixture
def box(tmp_path: Path) -> tuple[Path, Clock, InboxTracker]:
    inbox = tmp_path / "inbox"
    (inbox / "R01").mkdir(parents=True)
    clock = Clock()
    return inbox, clock, InboxTracker(inbox, TRACK, staging=tmp_path / "staging", clock=clock)


def settle(clock: Clock, tracker: InboxTracker, seconds: float, step: float = 0.25):  # noqa: ANN201
    """Advance the clock in steps, asking the tracker each time; the first batch it offers."""
    for _ in range(int(seconds / step)):
        clock.advance(step)
        batch = tracker.due()
        if batch is not None:
            return batch
    return None


def test_a_file_is_read_once_quiet_and_stable(box, workspace: Workspace, tmp_path: Path) -> None:
    inbox, clock, tracker = box
    f = inbox / "R01" / "MPC.xlsx"
    f.write_bytes(workbook_bytes(workspace, "R01", [deal("甲公司")], tmp_path))
    assert tracker.notice(f)
    clock.advance(1.9)
    assert tracker.due() is None  # not quiet for the debounce yet
    clock.advance(0.2)
    assert tracker.due() is None  # first look: its size and time start the settle period
    clock.advance(0.9)
    assert tracker.due() is None
    clock.advance(0.2)
    batch = tracker.due()
    assert batch is not None and batch.paths == [f] and batch.issues == []
    assert list(batch.snapshot) == [f]
    tracker.done(batch)
    assert tracker.idle()
    # The same file, unchanged, noticed again (an attribute change, a re-scan): no news.
    tracker.notice(f)
    assert settle(clock, tracker, 10) is None and tracker.idle()


def test_a_file_renamed_onto_its_name_is_read_without_waiting_to_settle(box, workspace: Workspace,
                                                                        tmp_path: Path) -> None:
    inbox, clock, tracker = box
    f = inbox / "R01" / "MPC.xlsx"
    temp = inbox / "R01" / "5F3A2B10"
    temp.write_bytes(workbook_bytes(workspace, "R01", [deal("甲公司")], tmp_path))
    os.rename(temp, f)  # Excel's save ends so
    assert tracker.notice(f, renamed=True)
    clock.advance(1.9)
    assert tracker.due() is None  # not quiet for the debounce yet
    clock.advance(0.2)
    batch = tracker.due()  # first look: complete, and nothing can be writing it: no settle period
    assert batch is not None and batch.paths == [f]
    tracker.done(batch)
    # A rename of a file that does not open complete waits, as any other.
    data = workbook_bytes(workspace, "R01", [deal("乙公司")], tmp_path)
    temp.write_bytes(data[: len(data) // 2])
    os.rename(temp, f)
    tracker.notice(f, renamed=True)
    clock.advance(2.1)
    assert tracker.due() is None
    # A later write in place takes the fast path away: it settles like any other.
    f.write_bytes(data)
    tracker.notice(f)
    clock.advance(2.1)
    assert tracker.due() is None  # first look: settle starts
    clock.advance(1.1)
    batch = tracker.due()
    assert batch is not None and batch.paths == [f]


def test_lock_and_temporary_files_are_ignored(box) -> None:
    inbox, _, tracker = box
    for name in ("~$MPC.xlsx", ".~lock.MPC.xlsx#", "MPC.tmp", "A1B2C3D4", "MPC.xlsx.osl-tmp", ".hidden.xlsx"):
        (inbox / "R01" / name).write_bytes(b"x")
        assert not tracker.notice(inbox / "R01" / name), name
    assert not tracker.notice(inbox.parent / "elsewhere.xlsx")
    assert tracker.idle()
    assert tracker.scan() == {}


def test_a_burst_of_saves_is_one_batch_and_a_save_during_the_run_stays(box, workspace: Workspace,
                                                                     tmp_path: Path) -> None:
    inbox, clock, tracker = box
    files = [inbox / "R01" / f"f{i}.xlsx" for i in range(4)]
    data = workbook_bytes(workspace, "R01", [deal("甲公司")], tmp_path)
    for i in range(20):  # twenty saves over five seconds, round the four files
        f = files[i % 4]
        f.write_bytes(data + b"\0" * i)  # zip readers accept trailing bytes; the size changes each time
        tracker.notice(f)
        clock.advance(0.25)
        assert tracker.due() is None
    batch = settle(clock, tracker, 10)
    assert batch is not None and batch.paths == files
    # A save during the run: noticed after the batch was taken, it is not cleared by the run.
    files[0].write_bytes(data + b"\0" * 99)
    tracker.notice(files[0])
    tracker.done(batch)
    assert list(tracker.pending) == [files[0]]
    again = settle(clock, tracker, 10)
    assert again is not None and again.paths == [files[0]]


def test_a_truncated_file_is_retried_with_back_off_then_reported(box, workspace: Workspace,
                                                                 tmp_path: Path) -> None:
    inbox, clock, tracker = box
    f = inbox / "R01" / "MPC.xlsx"
    data = workbook_bytes(workspace, "R01", [deal("甲公司")], tmp_path)
    f.write_bytes(data[: len(data) // 2])
    assert not opens_as_workbook(f)
    tracker.notice(f)
    times = []
    batch = None
    for _ in range(200):
        clock.advance(0.25)
        before = tracker.pending[f].tries if f in tracker.pending else None
        batch = tracker.due()
        if f in tracker.pending and tracker.pending[f].tries != before:
            times.append(clock.now - 1000)
        if batch is not None:
            break
    assert batch is not None and batch.paths == [f]
    # checked after debounce + settle, then again after 1 s and 2 s of back-off (plus a settle each)
    assert times == [3.0, 5.0, 8.0]
    [issue] = batch.issues
    assert (issue.file, issue.code, issue.rep, issue.params["tries"]) == ("R01/MPC.xlsx", "file-incomplete", "R01", 3)
    assert "3" in issue.message("en") and "incomplete" in issue.message("en")


def test_a_file_completed_before_the_tries_run_out_is_read_without_an_issue(box, workspace: Workspace,
                                                                           tmp_path: Path) -> None:
    inbox, clock, tracker = box
    f = inbox / "R01" / "MPC.xlsx"
    data = workbook_bytes(workspace, "R01", [deal("甲公司")], tmp_path)
    f.write_bytes(data[:1000])
    tracker.notice(f)
    assert settle(clock, tracker, 4) is None and tracker.pending[f].tries == 1
    f.write_bytes(data)  # the rest arrives without an event (a share that reports nothing)
    batch = settle(clock, tracker, 10)
    assert batch is not None and batch.issues == []


def test_a_file_that_keeps_changing_is_read_after_max_wait(box) -> None:
    inbox, clock, tracker = box
    f = inbox / "R01" / "slow.xlsx"
    batch = None
    for i in range(400):  # a slow copy: a bit more every half second, and events all along
        with f.open("ab") as fh:
            fh.write(b"PK\x03\x04" if i == 0 else b"x" * 100)
        tracker.notice(f)
        clock.advance(0.5)
        batch = tracker.due()
        if batch is not None:
            break
    assert batch is not None and clock.now - 1000 == pytest.approx(60.0, abs=1)
    assert [i.code for i in batch.issues] == ["file-incomplete"]


def test_what_the_pipeline_wrote_itself_is_no_news(box, tmp_path: Path) -> None:
    inbox, clock, tracker = box
    batch = tracker.full_batch()
    handed_out = inbox / "R01" / "周报.xlsx"
    handed_out.write_bytes(b"PK\x03\x04 a template")
    tracker.done(batch, written=[handed_out])
    tracker.notice(handed_out)  # the creation event arrives after the run
    assert settle(clock, tracker, 10) is None and tracker.idle()
    assert tracker.reconcile() == []


def test_reconcile_finds_what_events_missed_and_deletions(box, workspace: Workspace, tmp_path: Path) -> None:
    inbox, clock, tracker = box
    a, b = inbox / "R01" / "a.xlsx", inbox / "R01" / "b.xlsx"
    data = workbook_bytes(workspace, "R01", [deal("甲公司")], tmp_path)
    a.write_bytes(data)
    b.write_bytes(data)
    tracker.done(tracker.full_batch())
    a.write_bytes(data + b"\0")  # saved, no event
    b.unlink()  # deleted, no event
    assert tracker.reconcile() == [a, b]
    batch = settle(clock, tracker, 10)
    assert batch is not None and batch.paths == [a, b]
    tracker.done(batch)
    assert tracker.known == {a: (a.stat().st_size, a.stat().st_mtime_ns)}


def test_an_unannounced_write_holds_the_run_back(box, workspace: Workspace, tmp_path: Path) -> None:
    inbox, clock, tracker = box
    a, b = inbox / "R01" / "a.xlsx", inbox / "R01" / "b.xlsx"
    data = workbook_bytes(workspace, "R01", [deal("甲公司")], tmp_path)
    a.write_bytes(data)
    tracker.notice(a)
    clock.advance(2.25)
    tracker.due()
    b.write_bytes(data[:500])  # another save under way that no event announced yet
    clock.advance(1.0)
    assert tracker.due() is None  # a is ready, but b would be read half-written
    assert b in tracker.pending
    b.write_bytes(data)
    batch = settle(clock, tracker, 10)
    assert batch is not None and batch.paths == [a, b] and batch.issues == []


def test_a_vanished_or_empty_inbox_is_unavailable_not_deleted(box, workspace: Workspace, tmp_path: Path) -> None:
    inbox, clock, tracker = box
    a = inbox / "R01" / "a.xlsx"
    a.write_bytes(workbook_bytes(workspace, "R01", [deal("甲公司")], tmp_path))
    tracker.done(tracker.full_batch())
    inbox.rename(tmp_path / "away")  # the share dropped
    with pytest.raises(SourceUnavailable):
        tracker.reconcile()
    tracker.notice(a)
    clock.advance(5)
    with pytest.raises(SourceUnavailable):
        tracker.due()
    inbox.mkdir()  # an empty mount point where the share was
    with pytest.raises(SourceUnavailable, match="empty"):
        tracker.reconcile()
    inbox.rmdir()
    (tmp_path / "away").rename(inbox)  # back
    assert tracker.reconcile() == []
    assert settle(clock, tracker, 10) is None and tracker.idle()  # a is unchanged: nothing to do


# --------------------------------------------------------------------------------------------
# The watcher with real file events
# --------------------------------------------------------------------------------------------
FAST = WatchSettings(debounce=0.3, settle=0.2, max_tries=4, retry_delay=0.1, max_wait=30, batch_wait=5,
                     reconcile_interval=3600, tick=0.05, failure_delay=0.2, poll_interval=0.2)
TIMEOUT = 30.0


def wait_for(condition: Callable[[], bool], timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or condition}")


def quiet(w: Watcher, seconds: float = 0.6) -> None:
    """Wait until the watcher has had nothing to do for ``seconds`` (its queue empty, no run)."""
    deadline = time.monotonic() + TIMEOUT
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        state = (w.tracker.idle(), w.stats["ingests"], w.stats["reports"], w.stats["failures"])
        if state != last:
            last, since = state, time.monotonic()
        elif state[0] and not w.busy and time.monotonic() - since >= seconds:
            return
        time.sleep(0.02)
    raise AssertionError("the watcher never went quiet")


@contextlib.contextmanager
def watching(ws: Workspace, settings: WatchSettings = FAST, reports: bool = True,
             **kw) -> Iterator[Watcher]:  # noqa: ANN003
    w = Watcher(ws, settings, as_of=WEEK1, **kw)
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: w.caught_up and (not w.report_due or not reports) and w.observer is not None,
                 what="start-up run")
        quiet(w, 0.3)
        yield w
        assert thread.is_alive(), "the watcher died"
    finally:
        w.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def excel_save(target: Path, data: bytes) -> None:
    """What Excel does: lock file, a temporary file without extension, the original renamed away,
    the temporary file renamed onto the name, the original deleted."""
    folder = target.parent
    lock = folder / f"~${target.name}"
    lock.write_bytes(b"\0" * 165)
    temp = folder / "5F3A2B10"
    with temp.open("wb") as fh:
        for i in range(0, len(data), 4096):
            fh.write(data[i:i + 4096])
    backup = folder / "8C1D0E22.tmp"
    os.rename(target, backup)
    os.rename(temp, target)
    backup.unlink()
    lock.unlink()


def customers(ws: Workspace) -> set[str]:
    return {o["customer"] for o in build_summary(ws, WEEK1).opportunities}


def test_an_excel_style_save_triggers_exactly_one_ingest(workspace: Workspace, tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    with watching(workspace) as w:
        assert (w.stats["ingests"], w.stats["reports"]) == (1, 1)  # the start-up run
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: w.stats["reports"] == 2, what="the regeneration")
        quiet(w)
        assert (w.stats["ingests"], w.stats["reports"]) == (2, 2)
        assert w.runs[-1] == [mpc_path(workspace, "R01").relative_to(workspace.inbox).as_posix()]
    assert customers(workspace) == {"大庆石化机械厂"}
    assert (workspace.reports / "feedback" / "R01.xlsx").exists()


def test_an_in_place_write_in_chunks_is_not_read_half_written(workspace: Workspace, tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    target = mpc_path(workspace, "R01")
    seen: list[bool] = []

    def checking_ingest(ws: Workspace, as_of: dt.date, **kw) -> IngestResult:  # noqa: ANN003
        seen.append(opens_as_workbook(target))
        return ingest(ws, as_of, **kw)

    with watching(workspace, WatchSettings(**{**FAST.__dict__, "max_tries": 50}), ingest_fn=checking_ingest) as w:
        with target.open("r+b") as fh:  # LibreOffice rewrites the file in place
            fh.truncate(0)
            chunk = len(data) // 4 + 1
            for i in range(0, len(data), chunk):
                fh.write(data[i:i + chunk])
                fh.flush()
                time.sleep(0.6)  # the writer's pace: longer than debounce + settle
        wait_for(lambda: "大庆石化机械厂" in customers(workspace), what="the complete file")
        quiet(w)
    assert all(seen), "a run read the file half-written"


def test_a_save_ingests_only_the_saved_file(workspace: Workspace, tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    calls: list[list[Path] | None] = []

    def recording_ingest(ws: Workspace, as_of: dt.date, only=None) -> IngestResult:  # noqa: ANN001
        calls.append(None if only is None else list(only))
        return ingest(ws, as_of, only=only)

    with watching(workspace, ingest_fn=recording_ingest) as w:
        assert calls == [None]  # the start-up run looks at everything
        target = mpc_path(workspace, "R01")
        excel_save(target, data)
        wait_for(lambda: "大庆石化机械厂" in customers(workspace), what="the save")
        quiet(w)
    assert calls[1:] == [[Path(os.path.abspath(target))]]


def test_a_file_a_run_could_not_read_is_looked_at_again_by_the_next(workspace: Workspace, tmp_path: Path,
                                                                     monkeypatch) -> None:
    import sheetsales.storage.ingest as ingest_module

    first = mpc_path(workspace, "R01")
    second = mpc_path(workspace, "R02")
    data1 = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    data2 = workbook_bytes(workspace, "R02", [deal("鞍山钢铁")], tmp_path)
    real = ingest_module.file_sha256
    locked = {first}

    def sha(path: Path) -> str:
        if path in locked:
            locked.clear()
            raise PermissionError(errno.EACCES, "Permission denied")  # Excel on Windows holds it
        return real(path)

    calls: list[list[Path] | None] = []

    def recording_ingest(ws: Workspace, as_of: dt.date, only=None) -> IngestResult:  # noqa: ANN001
        calls.append(None if only is None else list(only))
        return ingest(ws, as_of, only=only)

    with watching(workspace, ingest_fn=recording_ingest) as w:
        monkeypatch.setattr(ingest_module, "file_sha256", sha)
        excel_save(first, data1)
        wait_for(lambda: len(calls) == 2, what="the run that cannot read the file")
        quiet(w)
        assert "大庆石化机械厂" not in customers(workspace)
        excel_save(second, data2)  # someone else saves: the next run looks at both
        wait_for(lambda: "鞍山钢铁" in customers(workspace), what="the next save")
        quiet(w)
    assert calls[2] == sorted([Path(os.path.abspath(first)), Path(os.path.abspath(second))])
    assert {"大庆石化机械厂", "鞍山钢铁"} <= customers(workspace)


def test_lock_and_temp_files_are_ignored(workspace: Workspace, tmp_path: Path) -> None:
    folder = workspace.inbox / "R01"
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    with watching(workspace) as w:
        for name in ("~$MPC.xlsx", ".~lock.MPC.xlsx#", "MPC.tmp", "A1B2C3D4", "MPC.xlsx.osl-tmp"):
            (folder / name).write_bytes(b"junk")
            (folder / name).write_bytes(b"junk, again")
        excel_save(mpc_path(workspace, "R01"), data)  # a real save after them: events have flowed
        wait_for(lambda: w.stats["ingests"] == 2, what="the save")
        quiet(w)
        assert w.stats["ingests"] == 2
        assert w.runs[-1] == [mpc_path(workspace, "R01").relative_to(workspace.inbox).as_posix()]


def test_twenty_saves_in_a_burst_give_one_regeneration(workspace: Workspace, tmp_path: Path) -> None:
    saves = []
    for i in range(20):
        rep = ("R01", "R02", "R03")[i % 3]
        saves.append((mpc_path(workspace, rep), workbook_bytes(workspace, rep, [deal(f"客户{i:02d}")], tmp_path)))
    with watching(workspace) as w:
        for target, data in saves:
            tmp = target.with_name("0A1B2C3D")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            time.sleep(0.01)
        wait_for(lambda: w.stats["reports"] == 2, what="the regeneration")
        quiet(w)
        assert (w.stats["ingests"], w.stats["reports"]) == (2, 2)
    assert customers(workspace) == {"客户17", "客户18", "客户19"}  # each rep's last save


def test_a_truncated_file_is_retried_and_then_reported(workspace: Workspace, tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    target = mpc_path(workspace, "R01")
    label = target.relative_to(workspace.inbox).as_posix()
    with watching(workspace, WatchSettings(**{**FAST.__dict__, "max_tries": 3})) as w:
        tmp = target.with_name("0A1B2C3D")
        tmp.write_bytes(data[: len(data) // 2])
        os.replace(tmp, target)
        wait_for(lambda: w.stats["ingests"] == 2, what="the give-up")
        quiet(w)
        assert [(i.file, i.code, i.params["tries"]) for i in w.issues] == [(label, "file-incomplete", 3)]
    issues = {(i["file"], i["code"]) for i in build_summary(workspace, WEEK1).issues}
    assert (label, "corrupt-workbook") in issues  # read as it is: the rep's feedback says what to do


def test_the_polling_observer_sees_a_change(workspace: Workspace, tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    with watching(workspace, WatchSettings(**{**FAST.__dict__, "polling": True})) as w:
        assert w.observer_kind == "polling"
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: w.stats["reports"] == 2, what="the polled change")
        assert w.stats["reconciled"] == 0  # seen by the observer, not by the periodic scan
    assert customers(workspace) == {"大庆石化机械厂"}


def test_the_periodic_scan_catches_what_no_event_reported(workspace: Workspace, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import sheetsales.service.watch as watch_mod

    # An observer that never reports anything (a share mounted over SMB).
    monkeypatch.setattr(watch_mod, "make_observer", lambda polling, interval: _Deaf())
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    with watching(workspace, WatchSettings(**{**FAST.__dict__, "reconcile_interval": 0.5})) as w:
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: w.stats["reports"] == 2, what="the scan")
        assert w.stats["reconciled"] == 1
    assert customers(workspace) == {"大庆石化机械厂"}


def test_a_vanished_inbox_does_not_kill_the_watcher_nor_count_as_deletions(workspace: Workspace,
                                                                           tmp_path: Path) -> None:
    first = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    second = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂"), deal("天津港务集团")], tmp_path)
    away = workspace.root / "inbox-offline"
    with watching(workspace) as w:
        excel_save(mpc_path(workspace, "R01"), first)
        wait_for(lambda: w.stats["reports"] == 2, what="the first save")
        quiet(w, 0.3)
        workspace.inbox.rename(away)  # the share drops
        wait_for(lambda: not w.available, what="source unavailable")
        time.sleep(0.5)  # the watcher keeps turning while the share is away (no assertion on time)
        runs = w.stats["ingests"]
        away.rename(workspace.inbox)  # the share is back
        wait_for(lambda: w.available and w.observer is not None, what="the share back")
        excel_save(mpc_path(workspace, "R01"), second)
        wait_for(lambda: "天津港务集团" in customers(workspace), what="a save after the outage")
        quiet(w, 0.3)  # the run that stored it has finished counting itself
        assert w.stats["ingests"] == runs + 1
        assert w.stats["unavailable"] == 1
    assert customers(workspace) == {"大庆石化机械厂", "天津港务集团"}  # nothing was taken as deleted


def test_a_deleted_and_recreated_inbox_gets_a_new_observer(workspace: Workspace, tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    with watching(workspace) as w:
        first_observer = w.observer
        keep = tmp_path / "kept"
        shutil.copytree(workspace.inbox, keep)
        shutil.rmtree(workspace.inbox)
        shutil.copytree(keep, workspace.inbox)
        wait_for(lambda: w.observer is not None and w.observer is not first_observer, what="a new observer")
        quiet(w, 0.3)
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: "大庆石化机械厂" in customers(workspace), what="a save seen by the new observer")


def test_a_transient_oserror_does_not_kill_the_watcher_and_the_save_is_not_lost(workspace: Workspace,
                                                                                tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    calls = []

    def flaky_ingest(ws: Workspace, as_of: dt.date, **kw) -> IngestResult:  # noqa: ANN003
        calls.append(as_of)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        return ingest(ws, as_of, **kw)

    with watching(workspace, ingest_fn=flaky_ingest) as w:
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: w.stats["failures"] == 1, what="the failure")
        wait_for(lambda: "大庆石化机械厂" in customers(workspace), what="the retry")
        quiet(w)
        assert len(calls) == 3 and w.stats["reports"] == 2


def test_an_observer_that_dies_is_restarted(workspace: Workspace, tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    with watching(workspace) as w:
        w.observer.stop()  # e.g. its thread died on an error
        wait_for(lambda: w.stats["restarts"] == 1, what="the restart")
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: "大庆石化机械厂" in customers(workspace), what="a save after the restart")


def test_the_playbook_is_watched_too(workspace: Workspace) -> None:
    import openpyxl

    from sheetsales.reading.specs import TARGETS_TABLE

    with watching(workspace) as w:
        wb = openpyxl.load_workbook(workspace.playbook_path)
        ws = wb[TARGETS_TABLE.zh]
        ws.append(["R01", "2026-11", 3_000_000])
        tmp = workspace.root / "0A1B2C3D"
        wb.save(tmp)
        os.replace(tmp, workspace.playbook_path)
        wait_for(lambda: w.stats["reports"] == 2, what="the playbook change")
        assert w.runs[-1] == ["playbook.xlsx"]


def test_sheetsales_watch_runs_as_a_service_and_stops_on_sigterm(workspace: Workspace, tmp_path: Path) -> None:
    """The real command, as systemd runs it: a save regenerates the summary; SIGTERM stops it cleanly."""
    import signal
    import subprocess
    import sys

    cfg = workspace.root / "sheetsales.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[watch]\ndebounce = 0.3\nsettle = 0.2\ntick = 0.05\n",
                   encoding="utf-8")
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    summary = workspace.reports / "summary.xlsx"
    log = tmp_path / "watch.log"
    proc = subprocess.Popen([sys.executable, "-m", "sheetsales.service.cli", "watch", str(workspace.root),
                             "--as-of", WEEK1.isoformat(), "--log", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: summary.exists(), what="the start-up report")
        wait_for(lambda: "用时" in log.read_text(encoding="utf-8"), what="the start-up run logged")
        first = summary.stat().st_mtime_ns
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: summary.stat().st_mtime_ns != first, what="the summary regenerated")
        wait_for(lambda: "大庆石化机械厂" in customers(workspace), what="the save ingested")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    text = log.read_text(encoding="utf-8")
    assert "开始监视" in text and "检测到保存" in text and "汇总已写入" in text and "已停止监视" in text


def test_a_report_that_keeps_failing_does_not_keep_saves_out_of_the_store(workspace: Workspace,
                                                                         tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)

    def broken_report(ws: Workspace, as_of: dt.date) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with watching(workspace, reports=False, report_fn=broken_report) as w:
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: "大庆石化机械厂" in customers(workspace), what="the save in the store")
        # the run that stored it goes on to its failing report: wait for it to be counted
        wait_for(lambda: w.stats["failures"] >= 2, what="the report's second failure")
        assert w.report_due


def test_a_save_during_a_regeneration_is_picked_up_after_it(workspace: Workspace, tmp_path: Path) -> None:
    from sheetsales.outputs.report import run_report

    first = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    second = workbook_bytes(workspace, "R02", [deal("天津港务集团")], tmp_path)
    reports = []

    def report_with_a_save_in_the_middle(ws: Workspace, as_of: dt.date):  # noqa: ANN202
        reports.append(as_of)
        if len(reports) == 2:  # the regeneration for R01's save: R02 saves meanwhile
            excel_save(mpc_path(workspace, "R02"), second)
            time.sleep(0.5)
        return run_report(ws, as_of)

    with watching(workspace, report_fn=report_with_a_save_in_the_middle) as w:
        excel_save(mpc_path(workspace, "R01"), first)
        wait_for(lambda: w.stats["reports"] == 3, what="the run after the regeneration")
        quiet(w)
        assert (w.stats["ingests"], w.stats["reports"]) == (3, 3)
        assert w.runs[-2:] == [[mpc_path(workspace, r).relative_to(workspace.inbox).as_posix()] for r in ("R01", "R02")]
    assert customers(workspace) == {"大庆石化机械厂", "天津港务集团"}


# --------------------------------------------------------------------------------------------
# The watcher follows the store, whoever recorded it; a failing report never delays a save
# --------------------------------------------------------------------------------------------
class _Deaf:
    """An observer that never reports anything, and a scan that never comes: the watcher sees no save."""

    emitters: set = set()

    def schedule(self, *a, **kw) -> None:  # noqa: ANN002, ANN003
        pass

    def start(self) -> None:
        pass

    def is_alive(self) -> bool:
        return True

    def stop(self) -> None:
        pass

    def join(self, timeout: float = 0) -> None:
        pass


def summary_customers(ws: Workspace) -> set[str]:
    """The customers the summary workbook on disk shows (not the store's figures)."""
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_path(str(ws.reports / "summary.xlsx"))
    return {v for row in wb.get_sheet_by_name("商机").to_python() for v in row if isinstance(v, str)}


def test_a_manual_ingest_the_watcher_did_not_see_regenerates_the_reports(workspace: Workspace,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import sheetsales.service.watch as watch_mod

    monkeypatch.setattr(watch_mod, "make_observer", lambda polling, interval: _Deaf())
    with watching(workspace) as w:
        assert w.stats["reports"] == 1 and "大庆石化机械厂" not in summary_customers(workspace)
        save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
        with workspace.lock(command="sheetsales ingest"):
            ingest(workspace, WEEK1)  # a manager, by hand, while the service runs
        wait_for(lambda: w.stats["reports"] == 2, what="the regeneration after someone else's ingest")
        quiet(w)
        assert w.stats["ingests"] == 1 and w.stats["reports"] == 2  # no ingest of its own: the store changed
    assert "大庆石化机械厂" in summary_customers(workspace)


def test_a_save_recorded_by_a_manual_ingest_first_still_regenerates_the_reports(workspace: Workspace,
                                                                                tmp_path: Path) -> None:
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    with watching(workspace) as w:
        with workspace.lock(command="sheetsales ingest"):  # the manual ingest holds the workspace
            excel_save(mpc_path(workspace, "R01"), data)
            wait_for(lambda: w.stats["lock_waits"] == 1, what="the watcher's run, waiting for the lock")
            result = ingest(workspace, WEEK1)
            assert result.new == 1
        wait_for(lambda: w.stats["ingests"] == 2, what="the watcher's ingest")
        wait_for(lambda: w.stats["reports"] == 2, what="the regeneration")
        quiet(w)
        assert w.runs[-1] == [mpc_path(workspace, "R01").relative_to(workspace.inbox).as_posix()]
    assert "大庆石化机械厂" in summary_customers(workspace)


def test_a_restarted_watcher_knows_whether_the_reports_are_current(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    with watching(workspace) as w:  # the first start: nothing written yet
        assert (w.stats["ingests"], w.stats["reports"]) == (1, 1)
    with watching(workspace) as w:  # restarted: the reports show the store, nothing to regenerate
        quiet(w)
        assert (w.stats["ingests"], w.stats["reports"]) == (1, 0)
    save_mpc(workspace, "R02", [deal("天津港务集团")])
    ingest(workspace, WEEK1)  # recorded while no watcher ran
    with watching(workspace) as w:
        assert (w.stats["ingests"], w.stats["reports"]) == (1, 1)
    assert "天津港务集团" in summary_customers(workspace)


def test_a_failing_report_never_delays_the_ingest_of_the_next_save(workspace: Workspace, tmp_path: Path) -> None:
    first = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    second = workbook_bytes(workspace, "R02", [deal("天津港务集团")], tmp_path)

    def broken_report(ws: Workspace, as_of: dt.date) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    slow_retry = WatchSettings(**{**FAST.__dict__, "failure_delay": 3600.0})  # a back-off nobody waits out here
    with watching(workspace, slow_retry, reports=False, report_fn=broken_report) as w:
        excel_save(mpc_path(workspace, "R01"), first)
        wait_for(lambda: "大庆石化机械厂" in customers(workspace), what="the first save")
        wait_for(lambda: w.stats["report_failures"] >= 1, what="the report's failure")
        excel_save(mpc_path(workspace, "R02"), second)
        wait_for(lambda: "天津港务集团" in customers(workspace), what="the next save, without waiting the back-off")
        assert w.report_due and w.stats["failures"] == w.stats["report_failures"]  # the ingests never failed


def test_a_folder_at_the_summary_path_does_not_stop_the_watcher(workspace: Workspace, tmp_path: Path) -> None:
    from sheetsales.outputs.outputs import copies_of

    (workspace.reports / "summary.xlsx").mkdir(parents=True)
    data = workbook_bytes(workspace, "R01", [deal("大庆石化机械厂")], tmp_path)
    with watching(workspace) as w:
        excel_save(mpc_path(workspace, "R01"), data)
        wait_for(lambda: w.stats["reports"] == 2, what="the regeneration")
        quiet(w)
        assert w.stats["failures"] == 0 and w.stats["output_failures"] == 2  # start-up and the save: a copy each
    assert copies_of(workspace.reports / "summary.xlsx")
    assert (workspace.reports / "feedback" / "R01.xlsx").is_file()


def test_an_idle_watcher_loads_the_days_deal_states_and_a_save_refreshes_them(workspace: Workspace,
                                                                              tmp_path: Path) -> None:
    """Idle after its start-up run, the watcher replays the day's deal states once (and imports what the
    analysis imports): the next save's report refreshes them instead of replaying the whole history."""
    import sys

    from sheetsales.method import dealstates

    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    dealstates.forget()
    with watching(workspace) as w:
        wait_for(lambda: w._warm_for == WEEK1 and not w.busy, what="warm-up")
        book = dealstates._book
        assert book is not None and book.as_of == WEEK1 and "pandas" in sys.modules
        rebuilds = book.rebuilds
        excel_save(mpc_path(workspace, "R01"),
                   workbook_bytes(workspace, "R01", [deal("大庆石化机械厂"), deal("天津港务集团")], tmp_path))
        wait_for(lambda: w.stats["reports"] >= 2 and not w.busy, what="the save's report")
        assert dealstates._book is book and book.rebuilds == rebuilds  # refreshed, not replayed
        assert "天津港务集团" in {s.customer for s in book.states()[0].values()}
