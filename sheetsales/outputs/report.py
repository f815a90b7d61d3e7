"""Report: analyse the store as of a date and write the summary and feedback workbooks.

A report run holds the workspace lock (it is re-entrant: the watcher and the scheduler already
hold it around their ingest and report). It starts by clearing the debris of writers that were
killed, then writes every output as its own unit: one that cannot be built, checked or put in
place is recorded in :attr:`ReportResult.problems` (written beside its target as a timestamped
copy when it could be built) and the others are still written. An output whose content did not
change since it was written is not written again (``reports/.sheetsales-manifest.json``, see
:mod:`sheetsales.outputs.manifest`): a save rewrites the summary, the saver's region summary and
the feedback of the people whose records it changed. The region summaries and the feedback
workbooks are built in a process pool while this process builds the summary. When the summary was written it
records which state of the store the outputs show (``reports/.sheetsales-outputs.json``), so
the watcher — or a watcher started later — knows when someone else's ingest made them stale.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..analyses.analyse import Summary
from ..analyses.figures import figures_key, summary_for
from ..analyses.figures import keep as keep_figures
from ..i18n import t
from ..method import scopes
from ..service.workspace import Workspace
from . import waiting
from .manifest import Manifest
from .outputs import OutputProblem, clear_debris, describe, temp_path
from .write import FeedbackRun, Pool, RegionJobs, figures_digest, write_summary

log = logging.getLogger(__name__)

OUTPUTS_STATE = ".sheetsales-outputs.json"  # in reports/: the store's state and date the outputs show


@dataclass
class ReportResult:
    summary: Summary
    summary_path: Path | None  # the summary, or its timestamped copy; None when it could not be written
    feedback: list[Path]  # each feedback workbook written (or its timestamped copy)
    problems: list[OutputProblem] = field(default_factory=list)  # outputs beside their target, or not written
    digest: Path | None = None
    debris: list[Path] = field(default_factory=list)  # temporary files of killed writers, removed
    mark: str = ""  # the store's change mark the outputs were written from
    written: list[Path] = field(default_factory=list)  # the workbooks this run wrote (or their copies)
    unchanged: list[Path] = field(default_factory=list)  # the workbooks already current: not rewritten

    @property
    def failed(self) -> list[OutputProblem]:
        """Outputs that could not be written at all (their previous file stays)."""
        return [p for p in self.problems if p.copy is None]


def output_messages(report: ReportResult, lang: str) -> list[str]:
    """What to tell about the outputs of a run that did not go to their place: one line each."""
    lines = []
    for p in report.problems:
        if p.copy is None:
            lines.append(t("output.failed", lang, target=p.target, error=p.error))
        elif p.locked:
            lines.append(t("cli.output_locked", lang, target=p.target, copy=p.copy.name))
        else:
            lines.append(t("output.copy", lang, target=p.target, error=p.error, copy=p.copy.name))
    return lines


def build_summary(ws: Workspace, as_of: dt.date) -> Summary:
    store = ws.store()
    try:
        return summary_for(ws, store, as_of)[0]  # the kept figures when nothing changed since
    finally:
        store.close()


def run_report(ws: Workspace, as_of: dt.date, digest: bool = False,
               progress: Callable[[int, int, str], None] | None = None) -> ReportResult:
    """Write the summary and every feedback workbook (and, with ``digest``, the week's digest).

    ``progress(done, total, label)`` is told of each output ready: the summary, each region's, each
    person's feedback."""
    with ws.lock(on_wait=log.warning, command="sheetsales report"):
        debris = clear_debris(ws.reports, ws.reports / "feedback", ws.reports / "regions")
        pool = Pool(steal=True)  # one worker; this process builds the summary, then what it has not started
        store = ws.store()
        try:
            mark = store.change_mark()
            if not outputs_current(ws, mark, as_of):  # outputs to rewrite, most likely: the worker starts now
                pool.warm()
            summary, key = summary_for(ws, store, as_of, keep_now=False)  # kept figures when nothing changed
            summary_fp = figures_digest(key or figures_key(ws, store, as_of))  # the summary's fingerprint
        except BaseException:
            pool.shutdown()
            raise
        finally:
            store.close()
        problems: list[OutputProblem] = []
        target = ws.reports / "summary.xlsx"
        books: dict[str, str] = {}
        try:  # the decisions drop-downs offer the deals waiting now (waiting.py): refreshed while nobody
            waiting.refresh_all(ws, summary)  # saved them, or a new dated one; the feedback names the newest
            books = waiting.to_use(ws, summary)
        except Exception as exc:  # never fails the report: the feedback lists them anyway
            log.warning("the decisions workbooks could not be refreshed: %s", exc)
        manifest = Manifest.load(ws.reports)  # what each output was written from: unchanged ones are skipped
        done = [0]
        total = 1 + len(scopes.summary_regions(summary)) + len(summary.people)

        def tick(label: str, path: Path | None = None) -> None:
            done[0] += 1
            if progress is not None:
                unchanged = path is not None and path in manifest.unchanged
                progress(min(done[0], total), total,
                         f"{label} ({t('output.unchanged', ws.lang)})" if unchanged else label)

        feedback_run = None
        try:
            # The region summaries (the heaviest) are handed to the pool's worker first, with the company
            # summary to cut them from; this process builds the company's summary meanwhile, first thing
            # (what the watcher's save waits for), then hands out the feedback workbooks.
            regions = start_region_summaries(ws, summary, problems, manifest, pool)
            summary_path = _output(target, problems, lambda: write_summary(summary, target, problems, manifest,
                                                                                  summary_fp))
            tick(target.name, target)
            feedback_run = FeedbackRun(summary, ws.reports / "feedback", books=books, manifest=manifest, pool=pool)
            pool.help()  # this process builds what the worker has not started, newest first
            finish_region_summaries(regions, problems, tick)
        finally:
            feedback = [] if feedback_run is None else feedback_run.finish(
                problems, lambda who: tick(f"feedback/{who}.xlsx", ws.reports / "feedback" / f"{who}.xlsx"))
            pool.shutdown()
            manifest.save()
        result = ReportResult(summary, summary_path, feedback, problems, debris=debris, mark=mark,
                              written=list(manifest.written), unchanged=list(manifest.unchanged))
        if digest:
            write_report_digest(ws, result)
        if summary_path is not None:
            record_outputs(ws, mark, as_of)
        if key:  # computed: kept for the next report, once the outputs are written
            keep_figures(ws, key, summary)
    return result


UNSAFE_NAME = re.compile(r'[\\/:*?"<>|]')  # characters a file name cannot hold


def write_region_summaries(ws: Workspace, summary: Summary, problems: list[OutputProblem],
                           tick: Callable[..., None] | None = None) -> list[Path]:
    """``reports/regions/<region>.xlsx``: the summary as each region's people may see it (nine levels:
    summary.xlsx itself is for the levels that see the company). Those whose content is unchanged
    since they were written are skipped; returns where each went."""
    manifest, pool = Manifest.load(ws.reports), Pool(steal=True)
    try:
        jobs = start_region_summaries(ws, summary, problems, manifest, pool)
        pool.help()
        return finish_region_summaries(jobs, problems, tick)
    finally:
        pool.shutdown()
        manifest.save()


def start_region_summaries(ws: Workspace, summary: Summary, problems: list[OutputProblem], manifest: Manifest,
                           pool: Pool | None = None) -> RegionJobs:
    """Each region's summary, handed to ``pool``'s worker to be cut, compared with ``manifest`` and
    built when it changed (:class:`RegionJobs`); done here by :func:`finish_region_summaries` without one."""
    targets = {region: ws.reports / "regions" / (UNSAFE_NAME.sub("_", region) + ".xlsx")
               for region in scopes.summary_regions(summary)}
    jobs = RegionJobs(summary, targets, manifest)
    jobs.start(pool)
    return jobs


def finish_region_summaries(jobs: RegionJobs, problems: list[OutputProblem],
                            tick: Callable[..., None] | None = None) -> list[Path]:
    """Wait for each region's summary and move it into place; where each went (failures in ``problems``)."""
    written = []
    for region, target in jobs.targets.items():
        try:
            path = jobs.finish(region, problems)
        except Exception as exc:  # one output never keeps the others from being written
            log.error("%s could not be written: %s", target, describe(exc), exc_info=True)
            problems.append(OutputProblem(target, describe(exc)))
            path = None
        if tick is not None:
            tick(f"regions/{target.name}", target)
        if path is not None:
            written.append(path)
    return written


def write_report_digest(ws: Workspace, result: ReportResult) -> Path | None:
    """The week's digest from ``result``'s figures, as one more output of the run (a failure is recorded)."""
    from .digest import digest_path, write_digest

    target = digest_path(ws.reports, result.summary)
    result.digest = _output(target, result.problems, lambda: write_digest(result.summary, ws.reports,
                                                                          problems=result.problems))
    return result.digest


def _output(target: Path, problems: list[OutputProblem], write: object) -> Path | None:
    try:
        return write()  # type: ignore[operator]
    except Exception as exc:  # one output never keeps the others from being written
        log.error("%s could not be written: %s", target, describe(exc), exc_info=True)
        problems.append(OutputProblem(target, describe(exc)))
        return None


# --------------------------------------------------------------------------------------------
# What the outputs show: lets a watcher see that someone else's ingest made them stale
# --------------------------------------------------------------------------------------------
def record_outputs(ws: Workspace, mark: str, as_of: dt.date) -> None:
    state = ws.reports / OUTPUTS_STATE
    try:
        tmp = temp_path(state)
        tmp.write_text(json.dumps({"store": mark, "as_of": as_of.isoformat(),
                                   "written_at": dt.datetime.now().isoformat(timespec="seconds")}),
                       encoding="utf-8")
        os.replace(tmp, state)
    except OSError as exc:  # costs one regeneration more, later
        log.warning("could not record what the reports were written from: %s", describe(exc))


def outputs_state(ws: Workspace) -> dict:
    """What the outputs were last written from ({} when unknown)."""
    try:
        state = json.loads((ws.reports / OUTPUTS_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def outputs_current(ws: Workspace, mark: str, as_of: dt.date) -> bool:
    """True when the outputs show the store as of ``mark`` on ``as_of`` (and the summary is there)."""
    state = outputs_state(ws)
    return (state.get("store") == mark and state.get("as_of") == as_of.isoformat()
            and (ws.reports / "summary.xlsx").exists())
