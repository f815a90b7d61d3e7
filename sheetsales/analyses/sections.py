"""The seam between the core summary and the capabilities built beside it.

The core (``analyse`` → ``write``) computes and draws the funnel, forecast, MPC review,
opportunities, alerts and data issues. Every further capability (lost deals, attainment,
conversion, the activity log, help requests, customer care, …) lives in its own module, listed in
:data:`MODULES`, and plugs in here without growing ``analyse.py`` or ``write.py``:

``KEY: str``
    the section's name: its key in :attr:`Summary.sections` and in ``report --json``.
``analyse(inputs: Inputs) -> dict[str, list[dict]]``
    the section's tables of plain records (stable English keys; dates may be ``datetime.date``),
    computed from the store as of ``inputs.as_of`` (so ``--as-of`` replays it). Required.
``alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]`` (optional)
    the section's alerts; they join the summary's alerts (Alerts sheet, feedback, digest, JSON).
    Their codes are registered in ``rules.ALERTS`` like every other alert.
``summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None`` (optional)
    adds the section's sheets to the summary workbook (after the core sheets, in :data:`MODULES`
    order) through :meth:`Book.sheet`.
``FEEDBACK: tuple[PersonTable, ...]`` and ``feedback_sheets(book, tables, person) -> None`` (optional)
    which of the section's tables go into each person's feedback workbook, and how they are drawn.
    The records are picked by person once for everyone (see ``write.FeedbackIndex``): a person gets
    the records whose ``field`` names them, or anyone in their scope when ``scope`` is true.

Every figure a section shows is part of the summary's content digest, so an unchanged section
costs no rewrite, and a changed one rebuilds only the workbooks whose records changed.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xlsxwriter

    from ..method.playbook import Playbook
    from ..method.rules import Context
    from ..outputs.write import SheetWriter
    from ..storage.store import Store
    from .analyse import Summary

# The capability modules, in the order their sheets follow the core sheets: ".lost" for a module of
# this package (any absolute module name works too).
MODULES: tuple[str, ...] = (".overview", ".lost", ".attainment", ".conversion", ".weekly", ".qualification", ".help", ".care", ".referrals", ".activity", ".falsereports", ".plan")


@dataclass
class Inputs:
    """What a section's analysis may use: all of it as of ``as_of``."""

    store: Store
    playbook: Playbook
    as_of: dt.date
    lang: str
    ctx: Context  # every deal's state (owner, evidenced stage, history, …), decisions, activity
    people: dict[str, dict]  # person id → {rep, rep_name, team, region, supervisor}
    summary: Summary  # the core figures, already computed (opportunities, alerts, funnel, …)


@dataclass(frozen=True)
class PersonTable:
    """One of a section's tables as it goes into the feedback workbooks."""

    table: str  # the table's key in the section's tables
    field: str = "rep"  # the record field that names the person
    scope: bool = False  # True: the records of everyone in the person's scope (a supervisor's team)


@dataclass
class Book:
    """The workbook being written, for a section to add its sheets to."""

    wb: xlsxwriter.Workbook
    formats: dict[str, Any]
    lang: str
    subtitle: str  # "as of <date> · <currency>" (summary) or "<id> <name> · as of <date>" (feedback)
    names: list[str] = field(default_factory=list)  # every sheet added, checked after writing

    def sheet(self, name: str) -> SheetWriter:
        """A new worksheet called ``name`` (already in the workbook's language), to write tables down."""
        from ..outputs.write import SheetWriter

        self.names.append(name)
        return SheetWriter(self.wb, self.wb.add_worksheet(name), self.lang, self.formats)


def modules() -> list[ModuleType]:
    """The capability modules, imported on first use."""
    return [importlib.import_module(name, __package__) for name in MODULES]


def analyse_all(inputs: Inputs) -> tuple[dict[str, dict[str, list[dict]]], list[Any]]:
    """Every section's tables, and their alerts."""
    tables: dict[str, dict[str, list[dict]]] = {}
    alerts: list[Any] = []
    for module in modules():
        tables[module.KEY] = module.analyse(inputs)
        if hasattr(module, "alerts"):
            alerts += module.alerts(inputs, tables[module.KEY])
    return tables, alerts


def summary_sheets(book: Book, summary: Summary) -> None:
    for module in modules():
        if hasattr(module, "summary_sheets"):
            module.summary_sheets(book, summary.sections.get(module.KEY, {}), summary)


def feedback_tables() -> list[tuple[str, PersonTable]]:
    """(section key, table) for every table that goes into feedback workbooks."""
    return [(module.KEY, pt) for module in modules() for pt in getattr(module, "FEEDBACK", ())]


def feedback_sheets(book: Book, tables: dict[str, dict[str, list[dict]]], person: dict) -> None:
    """The sections' sheets of one person's feedback; ``tables`` holds only that person's records."""
    for module in modules():
        if hasattr(module, "feedback_sheets") and module.KEY in tables:
            module.feedback_sheets(book, tables[module.KEY], person)
