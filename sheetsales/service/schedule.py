"""Scheduled generation: cron expressions say when; each run ingests, reports and writes the digest.

The times come from croniter (cron syntax, day-of-week and month rules, leap years), evaluated
in the ``[schedule] timezone`` of ``sheetsales.toml`` or, without one, in the machine's local
wall-clock time. :class:`Scheduler` only remembers the next time and says when it has come;
the clock is passed in, so a test can step through weeks in microseconds. Runs missed while
the machine slept coalesce into one run on waking.

``sheetsales schedule DIR`` runs :func:`run_schedule`; ``sheetsales watch DIR`` runs the same
schedule inside the watcher when ``sheetsales.toml`` has a ``[schedule]`` table.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from ..i18n import t
from ..outputs.report import ReportResult, output_messages, run_report
from ..storage.ingest import ingest
from .settings import DEFAULT_CRON, ScheduleSettings
from .workspace import Workspace, WorkspaceError

log = logging.getLogger(__name__)


class Schedule:
    """One or more cron expressions (``minute hour day month weekday``) in one time zone."""

    def __init__(self, expressions: Sequence[str], tz: dt.tzinfo | None = None) -> None:
        exprs = tuple(e.strip() for e in expressions if e.strip()) or (DEFAULT_CRON,)
        for expr in exprs:
            if not croniter.is_valid(expr):
                raise ValueError(f"not a cron expression (minute hour day month weekday): {expr!r}")
        self.expressions = exprs
        self.tz = tz

    @classmethod
    def from_settings(cls, settings: ScheduleSettings, cron: Sequence[str] = ()) -> Schedule:
        tz = None
        if settings.timezone:
            try:
                tz = ZoneInfo(settings.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise WorkspaceError(f"unknown time zone {settings.timezone!r} in [schedule]") from None
        try:
            return cls(tuple(cron) or settings.cron, tz)
        except ValueError as exc:
            raise WorkspaceError(str(exc)) from None

    def now(self) -> dt.datetime:
        """The current time as the schedule reads it: aware in its zone, or naive local time."""
        return dt.datetime.now(self.tz) if self.tz else dt.datetime.now()

    def _local(self, when: dt.datetime) -> dt.datetime:
        if self.tz is not None:
            return when.astimezone(self.tz)  # a naive time is the machine's local time
        return when.astimezone().replace(tzinfo=None) if when.tzinfo else when

    def next_after(self, when: dt.datetime) -> dt.datetime:
        """The first scheduled time strictly after ``when``."""
        start = self._local(when)
        return min(croniter(expr, start).get_next(dt.datetime) for expr in self.expressions)

    def upcoming(self, when: dt.datetime, count: int) -> list[dt.datetime]:
        out = []
        for _ in range(count):
            when = self.next_after(when)
            out.append(when)
        return out


class Scheduler:
    """Remembers the next scheduled time; :meth:`due` returns it once it has come."""

    def __init__(self, schedule: Schedule, now: dt.datetime) -> None:
        self.schedule = schedule
        self.next = schedule.next_after(now)

    def due(self, now: dt.datetime) -> dt.datetime | None:
        """The scheduled time that has come (once), or None; missed times coalesce into one."""
        now = self.schedule._local(now)
        if now < self.next:
            return None
        fired = self.next
        self.next = self.schedule.next_after(now)
        if (now - fired).total_seconds() > 300:
            log.warning("scheduled run of %s is late by %s (the machine slept or was busy)",
                        fired.isoformat(timespec="minutes"), str(now - fired).split(".")[0])
        return fired

    def seconds_left(self, now: dt.datetime) -> float:
        return (self.next - self.schedule._local(now)).total_seconds()


@dataclass
class ScheduledResult:
    report: ReportResult
    digest: Path | None
    unavailable: bool


def scheduled_run(ws: Workspace, as_of: dt.date, digest: bool = True,
                  on_wait: Callable[[str], None] | None = None) -> ScheduledResult:
    """One scheduled run: ingest (unless the inbox is unreachable), the reports, and the week's digest.

    The run holds the workspace lock throughout; an output that cannot be written is in
    ``report.problems`` and the others are still written.
    """
    with ws.lock(on_wait=on_wait or log.warning, command="sheetsales schedule"):
        result = ingest(ws, as_of)
        if result.unavailable:
            log.warning(t("cli.inbox_unavailable", ws.lang, path=ws.inbox))
        report = run_report(ws, as_of, digest=digest)
    return ScheduledResult(report, report.digest, result.unavailable)


def run_schedule(scheduler: Scheduler, job: Callable[[dt.datetime], object], *,
                 now: Callable[[], dt.datetime], wait: Callable[[float], bool],
                 max_sleep: float = 60.0, retries: Sequence[float] = (60.0, 300.0, 900.0),
                 lang: str = "en") -> None:
    """Wait for each scheduled time and run ``job(fired)``, until ``wait`` returns True (stopped).

    Waiting is in steps of at most ``max_sleep`` seconds, so a clock set forward, a suspended
    machine or a change of daylight saving time is noticed. A job that fails is tried again after
    each of ``retries`` seconds, then left for the next scheduled time; the loop never stops on it.
    """
    log.info(t("schedule.next", lang, when=scheduler.next.isoformat(timespec="minutes")))
    while True:
        fired = scheduler.due(now())
        if fired is None:
            if wait(min(max_sleep, max(scheduler.seconds_left(now()), 0.05))):
                return
            continue
        for delay in (*retries, None):
            try:
                job(fired)
                break
            except Exception:
                log.exception("scheduled run of %s failed", fired.isoformat(timespec="minutes"))
                if delay is None or wait(delay):
                    break
        log.info(t("schedule.next", lang, when=scheduler.next.isoformat(timespec="minutes")))


def serve_schedule(ws: Workspace, schedule: Schedule, as_of: dt.date | None = None, digest: bool = True,
                   stop: threading.Event | None = None) -> None:
    """``sheetsales schedule DIR``: scheduled runs until stopped."""
    stop = stop or threading.Event()
    scheduler = Scheduler(schedule, schedule.now())

    def job(fired: dt.datetime) -> None:
        log.info(t("schedule.run", ws.lang, when=fired.isoformat(timespec="minutes")))
        done = scheduled_run(ws, as_of or schedule.now().date(), digest)
        if done.report.summary_path is not None:
            log.info(t("cli.report_done", ws.lang, path=done.report.summary_path))
        for line in output_messages(done.report, ws.lang):
            log.warning(line)
        if done.digest:
            log.info(t("schedule.digest_done", ws.lang, path=done.digest))

    run_schedule(scheduler, job, now=schedule.now, wait=stop.wait, lang=ws.lang)
