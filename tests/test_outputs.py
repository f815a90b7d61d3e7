"""Outputs people may have open: locked targets get a timestamped copy, crashes leave the old file intact."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.outputs import outputs
from sheetsales.outputs.outputs import ReplacePolicy, copies_of, move_into_place, target_of
from sheetsales.outputs.report import run_report
from sheetsales.outputs.write import atomic_write
from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest


class Locked:
    """``os.replace`` as on Windows while someone has ``locked`` open in Excel: a sharing violation."""

    def __init__(self, *locked: Path, free_after: int | None = None) -> None:
        self.locked = {p.resolve() for p in locked}
        self.free_after = free_after
        self.tries = 0

    def __call__(self, src: Path, dst: Path) -> None:
        if Path(dst).resolve() in self.locked:
            self.tries += 1
            if self.free_after is None or self.tries <= self.free_after:
                raise PermissionError(32, "The process cannot access the file because it is being used "
                                          "by another process", str(dst))
        os.replace(src, dst)


def policy(replace: Locked, sleeps: list[float], when: dt.datetime = dt.datetime(2026, 11, 23, 7, 30),
           keep: int = 3) -> ReplacePolicy:
    return ReplacePolicy(delays=(0.5, 1.0, 2.0), keep=keep, replace=replace, sleep=sleeps.append,
                         now=lambda: when)


def all_values(path: Path) -> list:
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    return [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]


def write_text(path: Path, text: str, pol: ReplacePolicy | None = None) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), check=lambda tmp: None,
                        policy=pol)


def test_a_locked_target_is_retried_with_back_off_then_written_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "summary.xlsx"
    target.write_text("old")
    sleeps: list[float] = []
    locked = Locked(target)
    written = write_text(target, "new", policy(locked, sleeps))
    assert sleeps == [0.5, 1.0, 2.0]  # back-off, then give up
    assert locked.tries == 4
    assert written.name == "summary-20261123-073000.xlsx"
    assert written.read_text() == "new" and target.read_text() == "old"
    assert target_of(written) == target
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary-20261123-073000.xlsx", "summary.xlsx"]


def test_a_lock_released_during_the_back_off_replaces_the_target(tmp_path: Path) -> None:
    target = tmp_path / "summary.xlsx"
    target.write_text("old")
    sleeps: list[float] = []
    written = write_text(target, "new", policy(Locked(target, free_after=2), sleeps))
    assert written == target and target.read_text() == "new"
    assert sleeps == [0.5, 1.0]
    assert copies_of(target) == []


def test_only_the_last_copies_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "R01.xlsx"
    target.write_text("old")
    locked = Locked(target)
    written = []
    for minute in range(5):
        when = dt.datetime(2026, 11, 23, 7, minute)
        written.append(write_text(target, f"v{minute}", policy(locked, [], when, keep=3)))
    same_second = write_text(target, "v5", policy(locked, [], dt.datetime(2026, 11, 23, 7, 4), keep=3))
    assert same_second.name == "R01-20261123-070400-2.xlsx"
    assert [p.name for p in copies_of(target)] == ["R01-20261123-070300.xlsx", "R01-20261123-070400.xlsx",
                                                   "R01-20261123-070400-2.xlsx"]
    assert target.read_text() == "old"
    assert target_of(target) is None
    assert target_of(tmp_path / "R01-20261123-070400-2.xlsx") == target


def test_other_errors_are_not_mistaken_for_a_lock(tmp_path: Path) -> None:
    target = tmp_path / "summary.xlsx"
    target.write_text("old")
    tries: list[Path] = []
    sleeps: list[float] = []

    def full(src: Path, dst: Path) -> None:
        tries.append(Path(dst))
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_text(target, "new", ReplacePolicy(replace=full, sleep=sleeps.append))
    assert sleeps == []  # no back-off: waiting does not free a disk
    assert [p.name for p in tries] == ["summary.xlsx", tries[1].name] and target_of(tries[1]) == target  # then a copy
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.xlsx"]  # no temporary file left


@pytest.mark.parametrize("error", [IsADirectoryError(21, "Is a directory"), PermissionError(13, "Permission denied"),
                                   OSError(30, "Read-only file system")])
def test_any_failure_to_replace_falls_back_to_a_timestamped_copy_and_is_recorded(tmp_path: Path,
                                                                                 error: OSError) -> None:
    target = tmp_path / "summary.xlsx"
    target.write_text("old")
    sleeps: list[float] = []

    def refuse_target(src: Path, dst: Path) -> None:
        if Path(dst) == target:
            raise error
        os.replace(src, dst)

    problems: list[outputs.OutputProblem] = []
    pol = ReplacePolicy(delays=(0.5,), replace=refuse_target, sleep=sleeps.append,
                        now=lambda: dt.datetime(2026, 11, 23, 7, 30))
    written = atomic_write(target, lambda tmp: tmp.write_text("new"), check=lambda tmp: None, policy=pol,
                           problems=problems)
    assert written.name == "summary-20261123-073000.xlsx" and written.read_text() == "new"
    assert target.read_text() == "old"
    assert [(p.target, p.copy, p.locked) for p in problems] == [(target, written, isinstance(error, PermissionError))]
    assert type(error).__name__ in problems[0].error
    assert sleeps == ([0.5] if isinstance(error, PermissionError) else [])  # only a sharing violation is waited on


def test_a_folder_at_the_summary_path_gets_a_copy_the_feedback_is_written_and_the_cli_says_so(
        workspace: Workspace, capsys: pytest.CaptureFixture) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    ingest(workspace, WEEK1)
    (workspace.reports / "summary.xlsx").mkdir(parents=True)  # someone made a folder of that name
    result = run_report(workspace, WEEK1)
    assert target_of(result.summary_path) == workspace.reports / "summary.xlsx"
    assert "大庆石化机械厂" in str(all_values(result.summary_path))
    assert sorted(p.name for p in result.feedback) == ["D01.xlsx", "R01.xlsx", "R02.xlsx", "R03.xlsx", "S01.xlsx"]
    assert all(p.is_file() for p in result.feedback)
    assert [(p.target.name, "IsADirectoryError" in p.error) for p in result.problems] == [("summary.xlsx", True)]
    assert result.failed == []

    assert main(["report", str(workspace.root), "--as-of", WEEK1.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "无法替换" in out and "IsADirectoryError" in out and "summary-" in out


def test_an_output_that_cannot_be_written_at_all_is_reported_and_the_others_are_written(
        workspace: Workspace, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    ingest(workspace, WEEK1)
    first = run_report(workspace, WEEK1)
    before = first.summary_path.read_bytes()

    def nowhere(src: Path, dst: Path) -> None:  # neither the summary nor a copy beside it can be written
        if Path(dst).name.startswith("summary"):
            raise OSError(30, "Read-only file system")
        os.replace(src, dst)

    monkeypatch.setattr(outputs, "POLICY", ReplacePolicy(replace=nowhere, sleep=lambda s: None))
    save_mpc(workspace, "R01", [deal("大庆石化机械厂"), deal("天津港务集团")])
    ingest(workspace, WEEK1)
    result = run_report(workspace, WEEK1)
    assert result.summary_path is None
    assert [p.target.name for p in result.failed] == ["summary.xlsx"]
    assert first.summary_path.read_bytes() == before
    assert "天津港务集团" in str(all_values(workspace.reports / "feedback" / "R01.xlsx"))  # the others are written
    assert main(["report", str(workspace.root), "--as-of", WEEK1.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "未能写入" in out and "Read-only file system" in out


def test_a_locked_summary_leads_to_a_timestamped_copy_and_the_cli_says_so(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    ingest(workspace, WEEK1)
    summary = run_report(workspace, WEEK1).summary_path
    before = summary.read_bytes()
    save_mpc(workspace, "R01", [deal("大庆石化机械厂"), deal("天津港务集团")])
    ingest(workspace, WEEK1)
    locked = Locked(summary, workspace.reports / "feedback" / "R01.xlsx")
    monkeypatch.setattr(outputs, "POLICY", ReplacePolicy(delays=(0.01,), keep=2, replace=locked,
                                                         sleep=lambda s: None))
    result = run_report(workspace, WEEK1)
    assert target_of(result.summary_path) == summary
    assert summary.read_bytes() == before
    assert "天津港务集团" in str(all_values(result.summary_path)) and "天津港务集团" not in str(all_values(summary))
    assert [target_of(p) for p in result.feedback if target_of(p)] == [workspace.reports / "feedback" / "R01.xlsx"]

    assert main(["report", str(workspace.root), "--as-of", WEEK1.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "summary.xlsx" in out and "R01.xlsx" in out and "正被打开" in out
    assert len(copies_of(summary)) == 2  # the last two kept


def test_a_crash_during_a_write_leaves_the_previous_summary_byte_identical(tmp_path: Path) -> None:
    target = tmp_path / "summary.xlsx"
    write_text(target, "the previous summary")
    before = target.read_bytes()

    def crash(tmp: Path) -> None:
        tmp.write_bytes(b"PK\x03\x04 half a workbook")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.xlsx"]


def test_a_killed_writer_leaves_the_previous_summary_byte_identical_and_its_debris_is_cleared(
        workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    ingest(workspace, WEEK1)
    summary = run_report(workspace, WEEK1).summary_path
    before = summary.read_bytes()
    feedback = workspace.reports / "feedback" / "R01.xlsx"
    # A process killed (SIGKILL: no finally, no clean-up) while it writes the new summary, then another
    # while it writes a feedback workbook.
    for target in (summary, feedback):
        script = textwrap.dedent(f"""
            import os, signal
            from pathlib import Path
            from sheetsales.outputs.write import atomic_write
            def build(tmp):
                with open(tmp, "wb") as fh:
                    fh.write(Path({str(target)!r}).read_bytes()[:3000])
                    fh.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
            atomic_write(Path({str(target)!r}), build)
        """)
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
        assert proc.returncode != 0
    assert summary.read_bytes() == before
    debris = [p for folder in (summary.parent, feedback.parent) for p in folder.iterdir()
              if p.name.startswith((".summary.", ".R01."))]
    assert len(debris) == 2
    # A writer without the workspace lock leaves a young temporary file alone: it may be a write in progress.
    atomic_write(summary, lambda tmp: tmp.write_bytes(before), check=lambda tmp: None)
    assert all(p.exists() for p in debris)
    # A report run holds the lock, so no other write is under way: it clears the debris first, young or old.
    result = run_report(workspace, WEEK1)
    assert not any(p.exists() for p in debris)
    assert sorted(result.debris) == sorted(debris)
    assert not [p for folder in (summary.parent, feedback.parent) for p in folder.iterdir() if ".tmp" in p.name]


def test_move_into_place_uses_the_default_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, dst = tmp_path / "a.tmp", tmp_path / "a.txt"
    src.write_text("x")
    monkeypatch.setattr(outputs, "POLICY", outputs.POLICY)
    outputs.configure(keep=7)
    assert outputs.POLICY.keep == 7
    assert move_into_place(src, dst) == dst and dst.read_text() == "x"


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux's /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def test_a_report_killed_leaves_no_process_behind() -> None:
    """``kill -9`` of a report whose pool's worker is up (as a report warms it at its start): the worker,
    and with it the fork server, ends within seconds; before, it waited for work for ever."""
    import signal
    import time

    script = textwrap.dedent("""
        import time
        from sheetsales.outputs.write import Pool
        pool = Pool(steal=True)
        pool.warm()
        pool.starting.join()
        assert pool.executor is not None and not pool.failed
        print("ready", flush=True)
        time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        helpers = _children(proc.pid)
        workers = {w for h in helpers for w in _children(h)}
        assert workers, "the pool's worker is a child of the fork server"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_running(p) for p in helpers | workers):
            time.sleep(0.1)
        assert [p for p in helpers | workers if _running(p)] == [], "left running after the report was killed"
    finally:
        if proc.poll() is None:
            proc.kill()
