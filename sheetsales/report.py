"""Report: analyse the store as of a date and write the summary and feedback workbooks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .analyse import Summary, analyse
from .ingest import load_playbook
from .workspace import Workspace
from .write import write_feedback, write_summary


@dataclass
class ReportResult:
    summary: Summary
    summary_path: Path
    feedback: list[Path]


def build_summary(ws: Workspace, as_of: dt.date) -> Summary:
    store = ws.store()
    try:
        playbook, _ = load_playbook(ws, store, as_of)
        return analyse(store, playbook, as_of, ws.lang)
    finally:
        store.close()


def run_report(ws: Workspace, as_of: dt.date) -> ReportResult:
    summary = build_summary(ws, as_of)
    path = write_summary(summary, ws.reports / "summary.xlsx")
    feedback = write_feedback(summary, ws.reports / "feedback")
    return ReportResult(summary, path, feedback)
