"""Scheduled generation: the times croniter computes, the loop that waits for them, and the runs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.outputs.digest import write_digest
from sheetsales.service.cli import main
from sheetsales.service.schedule import Schedule, Scheduler, run_schedule, scheduled_run
from sheetsales.service.settings import ScheduleSettings, WatchSettings, load_settings
from sheetsales.service.watch import Watcher
from sheetsales.service.workspace import Workspace, WorkspaceError
from sheetsales.storage.ingest import ingest

MONDAY_0730 = "30 7 * * 1"


class Wall:
    """A wall clock the test moves; ``wait`` advances it instead of sleeping."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.waits: list[float] = []
        self.stopping = False  # set by a test: the next wait stops the loop, as a signal would

    def __call__(self) -> dt.datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += dt.timedelta(seconds=seconds)
        return self.stopping


def test_the_schedule_fires_at_the_computed_times() -> None:
    wall = Wall(dt.datetime(2026, 11, 19, 12, 0))  # a Thursday
    fired: list[tuple[dt.datetime, dt.datetime]] = []

    def job(when: dt.datetime) -> None:
        fired.append((when, wall.now))
        wall.stopping = len(fired) == 3

    scheduler = Scheduler(Schedule([MONDAY_0730]), wall())
    run_schedule(scheduler, job, now=wall, wait=wall.wait, retries=())
    assert [when for when, _ in fired] == [dt.datetime(2026, 11, 23, 7, 30), dt.datetime(2026, 11, 30, 7, 30),
                                           dt.datetime(2026, 12, 7, 7, 30)]
    # each run starts on time: the loop never oversleeps, it waits in steps of at most a minute
    assert all(dt.timedelta(0) <= ran - when < dt.timedelta(seconds=1) for when, ran in fired)
    assert max(wall.waits) <= 60


def test_several_expressions_in_a_time_zone_across_daylight_saving_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    schedule = Schedule([MONDAY_0730, "0 18 * * 5"], berlin)
    times = schedule.upcoming(dt.datetime(2026, 10, 21, 9, 0, tzinfo=berlin), 4)
    assert [(w.strftime("%a %d %H:%M"), w.utcoffset()) for w in times] == [
        ("Fri 23 18:00", dt.timedelta(hours=2)),
        ("Mon 26 07:30", dt.timedelta(hours=1)),  # summer time ended on Sunday the 25th
        ("Fri 30 18:00", dt.timedelta(hours=1)),
        ("Mon 02 07:30", dt.timedelta(hours=1)),
    ]
    # a time read in another zone is converted, not re-labelled
    utc = dt.datetime(2026, 10, 26, 6, 29, tzinfo=dt.UTC)
    assert schedule.next_after(utc) == dt.datetime(2026, 10, 26, 7, 30, tzinfo=berlin)


def test_missed_runs_coalesce_into_one() -> None:
    scheduler = Scheduler(Schedule([MONDAY_0730]), dt.datetime(2026, 11, 20, 8, 0))
    assert scheduler.due(dt.datetime(2026, 11, 23, 7, 29)) is None
    # the machine slept through three Mondays
    assert scheduler.due(dt.datetime(2026, 12, 10, 9, 0)) == dt.datetime(2026, 11, 23, 7, 30)
    assert scheduler.due(dt.datetime(2026, 12, 10, 9, 1)) is None
    assert scheduler.next == dt.datetime(2026, 12, 14, 7, 30)


def test_a_failing_run_is_retried_then_left_for_the_next_time() -> None:
    wall = Wall(dt.datetime(2026, 11, 23, 7, 0))
    calls: list[dt.datetime] = []

    def job(when: dt.datetime) -> None:
        calls.append(wall.now)
        wall.stopping = len(calls) == 5
        raise OSError("the share is away")

    scheduler = Scheduler(Schedule([MONDAY_0730]), wall())
    run_schedule(scheduler, job, now=wall, wait=wall.wait, retries=(60, 300, 900))
    first = dt.datetime(2026, 11, 23, 7, 30)
    assert [c - first for c in calls[:4]] == [dt.timedelta(0), dt.timedelta(seconds=60), dt.timedelta(seconds=360),
                                              dt.timedelta(seconds=1260)]
    assert calls[4] == dt.datetime(2026, 11, 30, 7, 30)  # given up on, then the next Monday


def test_a_wrong_cron_expression_or_time_zone_is_a_usage_error() -> None:
    with pytest.raises(WorkspaceError, match="cron"):
        Schedule.from_settings(ScheduleSettings(cron=("every monday",)))
    with pytest.raises(WorkspaceError, match="time zone"):
        Schedule.from_settings(ScheduleSettings(cron=(MONDAY_0730,), timezone="Mars/Olympus"))
    assert Schedule.from_settings(ScheduleSettings()).expressions == (MONDAY_0730,)  # the default


def test_settings_come_from_sheetsales_toml(workspace: Workspace) -> None:
    cfg = workspace.root / "sheetsales.toml"
    assert load_settings(workspace) == (WatchSettings(), ScheduleSettings())
    cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[watch]\npolling = true\ndebounce = 5\nkeep_copies = 3\n'
                   '\n[schedule]\ncron = ["30 7 * * 1", "0 18 * * 5"]\ntimezone = "Asia/Shanghai"\n',
                   encoding="utf-8")
    watch, schedule = load_settings(workspace)
    assert (watch.polling, watch.debounce, watch.keep_copies) == (True, 5.0, 3)
    assert schedule == ScheduleSettings(cron=("30 7 * * 1", "0 18 * * 5"), timezone="Asia/Shanghai")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("debounce = 5", "debounse = 5"), encoding="utf-8")
    with pytest.raises(WorkspaceError, match="debounse"):
        load_settings(workspace)


def test_a_scheduled_run_writes_the_reports_and_the_digest(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    done = scheduled_run(workspace, WEEK1)
    assert not done.unavailable
    assert done.report.summary_path == workspace.reports / "summary.xlsx"
    assert done.digest == workspace.reports / "digest-2026-W45.html"
    assert "1,000,000" in done.digest.read_text(encoding="utf-8")


def test_a_scheduled_run_with_the_inbox_away_still_reports_from_the_store(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    ingest(workspace, WEEK1)
    workspace.inbox.rename(workspace.root / "away")
    done = scheduled_run(workspace, WEEK1 + dt.timedelta(days=7))
    assert done.unavailable and "1,000,000" in done.digest.read_text(encoding="utf-8")


def test_the_watcher_runs_the_schedule_from_sheetsales_toml(workspace: Workspace) -> None:
    wall = Wall(dt.datetime(2026, 11, 2, 7, 0))  # Monday, before 07:30
    w = Watcher(workspace, WatchSettings(), scheduler=Scheduler(Schedule([MONDAY_0730]), wall()), as_of=WEEK1,
                digest_fn=write_digest, wall=wall)
    try:
        w.tick()  # start-up: observer and the catch-up run
        assert (w.stats["ingests"], w.stats["scheduled"]) == (1, 0)
        wall.now = dt.datetime(2026, 11, 2, 7, 30)
        w.tick()
        assert (w.stats["ingests"], w.stats["reports"], w.stats["scheduled"], w.stats["digests"]) == (2, 2, 1, 1)
        assert (workspace.reports / "digest-2026-W45.html").exists()
        wall.now = dt.datetime(2026, 11, 2, 7, 31)
        w.tick()
        assert w.stats["scheduled"] == 1
        assert w.scheduler.next == dt.datetime(2026, 11, 9, 7, 30)
    finally:
        w._stop_observer()


def test_cli_schedule_once_and_show_next(workspace: Workspace, capsys: pytest.CaptureFixture) -> None:
    assert main(["schedule", str(workspace.root), "--cron", "0 18 * * 5", "--show-next", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(" 18:00 Fri" in line for line in lines)
    assert main(["schedule", str(workspace.root), "--once", "--as-of", WEEK1.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "digest-2026-W45.html" in out and "summary.xlsx" in out
    assert (workspace.reports / "digest-2026-W45.html").exists()
    assert main(["schedule", str(workspace.root), "--cron", "whenever", "--once"]) == 2


def test_cli_schedule_help_says_as_of_defaults_to_each_run(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["watch", "--help"])
    assert "the date of each run" in " ".join(capsys.readouterr().out.split())


def test_a_digest_that_fails_to_build_is_reported_and_the_workbooks_are_written(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import sheetsales.outputs.digest as digest_mod

    def broken(summary: object) -> str:
        raise KeyError("a label the template does not know")

    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    monkeypatch.setattr(digest_mod, "render_digest", broken)
    done = scheduled_run(workspace, WEEK1)
    assert done.digest is None and not (workspace.reports / "digest-2026-W45.html").exists()
    assert [(p.target.name, p.error.split(":")[0]) for p in done.report.failed] == [("digest-2026-W45.html",
                                                                                    "KeyError")]
    assert done.report.summary_path == workspace.reports / "summary.xlsx" and done.report.summary_path.is_file()
    assert len(done.report.feedback) == 5 and all(p.is_file() for p in done.report.feedback)
    assert main(["schedule", str(workspace.root), "--once", "--as-of", WEEK1.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "digest-2026-W45.html 未能写入" in out and "汇总已写入" in out
