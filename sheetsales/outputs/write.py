"""Write: the summary workbook and the per-person feedback workbooks, in one pass.

Each workbook is built with XlsxWriter into a temporary file in the target
folder, checked and only then moved into place, so a crash leaves the previous
file intact. The summary is checked in full (every sheet read back with
calamine: it is the one workbook every manager opens, and one per run); a
feedback workbook is checked as a package (the zip opens, every part's CRC
holds, the workbook lists the expected sheets and each sheet's part is there),
which catches a broken file at a fraction of the cost. Rows sit in named Excel
tables; totals are formulas with their values cached; text from reps is always
written as text, never as a formula.

An output whose content is unchanged since it was written (its fingerprint,
recorded in the reports' manifest with the file's size and modification time:
see :mod:`sheetsales.outputs.manifest`) is not built again. Feedback workbooks
and region summaries are independent: they are built in a process pool while
this process builds the summary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import os
import traceback
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import python_calamine
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from ..analyses import overview, review, sections, weekly
from ..analyses.analyse import Summary
from ..analyses.figures import code_signature
from ..i18n import SEVERITY_RANK, alert_name, t
from ..method.scopes import reach_all
from ..reading.drawing import NUM_FORMATS
from ..reading.specs import FUNNEL_STATES, choice_label
from .manifest import Manifest, fingerprint, record_hash
from .outputs import OutputProblem, ReplacePolicy, describe, move_into_place, remove_stale_temps, temp_path
from .rows import EXCEL_MAX, FastSheet, FastWorkbookMixin, put_row
from .widths import column_width, display_width, header_width, wrapped_lines

log = logging.getLogger(__name__)


class OutputCheckError(Exception):
    """A generated workbook failed its own check; the previous file was left in place."""


@dataclass(frozen=True)
class Col:
    key: str
    label: str  # i18n key
    kind: str = "text"  # text | int | money | percent | date
    width: float = 12
    total: str = ""  # "sum" | "count" | ""


def atomic_write(path: Path, build: Callable[[Path], None], check: Callable[[Path], None] | None = None,
                 policy: ReplacePolicy | None = None, problems: list[OutputProblem] | None = None) -> Path:
    """Build into a temporary file beside ``path``, check it, then replace ``path`` in one step.

    Returns where the file went: ``path``, or a timestamped copy beside it when ``path`` could not
    be replaced (open in Excel on Windows, a folder in the way, …), recorded in ``problems``; see
    :mod:`sheetsales.outputs.outputs`. A build or check that fails raises, and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    tmp = temp_path(path)
    try:
        build(tmp)
        (check or check_workbook)(tmp)
        return move_into_place(tmp, path, policy, problems)
    finally:
        if tmp.exists():
            tmp.unlink()


def check_workbook(path: Path, expected_sheets: Sequence[str] = ()) -> None:
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        for name in names:
            wb.get_sheet_by_name(name).to_python()
        wb.close()
    except Exception as exc:
        raise OutputCheckError(f"{path.name}: {exc}") from exc
    missing = [s for s in expected_sheets if s not in names]
    if missing:
        raise OutputCheckError(f"{path.name}: missing sheets {missing}")


_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def check_package(path: Path, expected_sheets: Sequence[str] = ()) -> None:
    """A cheap check of a generated workbook: the zip opens and every part's CRC holds, the package's
    content types, workbook and its relationships are there, the workbook lists ``expected_sheets``
    and the part of every sheet it lists is in the package. Raises :class:`OutputCheckError`."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise OutputCheckError(f"{path.name}: damaged part {bad}")
            parts = set(zf.namelist())
            for part in ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
                if part not in parts:
                    raise OutputCheckError(f"{path.name}: no {part}")
            workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except OutputCheckError:
        raise
    except Exception as exc:  # not a zip, a truncated one, XML that does not parse, …
        raise OutputCheckError(f"{path.name}: {describe(exc)}") from exc
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    names = []
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        names.append(sheet.get("name"))
        target = targets.get(sheet.get(_REL), "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if part not in parts:
            raise OutputCheckError(f"{path.name}: sheet {sheet.get('name')!r} has no part ({target!r})")
    missing = [s for s in expected_sheets if s not in names]
    if missing:
        raise OutputCheckError(f"{path.name}: missing sheets {missing}")


class SheetWriter:
    """Writes titled blocks of named tables down one worksheet."""

    def __init__(self, wb: xlsxwriter.Workbook, ws: Worksheet, lang: str, fmts: dict[str, Any]) -> None:
        self.wb, self.ws, self.lang, self.fmts = wb, ws, lang, fmts
        self.row = 0
        self.widths: dict[int, float] = {}
        self.footer = ""  # the subtitle ("as of <date> …"): printed at the foot of every page
        self.index_row: int | None = None  # the row under the title that links to each table
        self.headers: list[int] = []  # the header row of every table, in order
        self.headings: list[tuple[str, int]] = []  # (text, row) of every heading: the index's entries
        self.wide: dict[int, tuple[str, float]] = {}  # column -> (header label, minimum width)

    def title(self, text: str, sub: str = "") -> None:
        self.ws.write_string(self.row, 0, text, self.fmts["title"])
        self.ws.set_row(self.row, 24)
        self.row += 1
        if sub:
            self.ws.write_string(self.row, 0, sub, self.fmts["sub"])
            self.footer = sub
            self.row += 1
        self.index_row = self.row  # blank unless the sheet holds several tables (see finish)
        self.row += 1

    def heading(self, text: str) -> None:
        self.ws.write_string(self.row, 0, text, self.fmts["heading"])
        self.headings.append((text, self.row))
        self.row += 1

    def table(self, name: str, cols: Sequence[Col], records: Sequence[dict], col0: int = 0,
              total: bool = True) -> tuple[int, int]:
        """A named table; returns (first data row, last data row), 0-based."""
        lang = self.lang
        has_total = total and any(c.total for c in cols) and bool(records)
        label_col = next((i for i, c in enumerate(cols) if not c.total), -1)
        if not records:
            self.ws.write_string(self.row, col0, t("none", lang), self.fmts["sub"])
            self.row += 1
        first = self.row + 1
        last = first + max(len(records), 1) - 1
        columns = []
        for i, c in enumerate(cols):
            numeric = c.kind in ("int", "money", "percent")
            spec: dict[str, Any] = {"header": t(c.label, lang),
                                    "header_format": self.fmts["header_num" if numeric else "header"]}
            if c.kind in NUM_FORMATS:
                spec["format"] = self.fmts[c.kind]
            if has_total:
                if i == label_col:
                    spec["total_string"] = t("total", lang)
                elif c.total == "sum":
                    spec["total_function"] = "sum"
                    value = sum(_number(r.get(c.key)) for r in records)
                    spec["total_value"] = round(value, 2) if _writable(value) else 0  # recalculated on opening
                elif c.total == "count":
                    spec["total_function"] = "count"
                    spec["total_value"] = sum(1 for r in records if r.get(c.key) not in (None, ""))
            columns.append(spec)
            width = column_width(spec["header"], (r.get(c.key) for r in records), c.kind,
                                 cap=min(max(c.width, 30), 60))
            self.widths[col0 + i] = max(self.widths.get(col0 + i, 0), width)
            if header_width(spec["header"]) > self.wide.get(col0 + i, ("", 0))[1]:
                self.wide[col0 + i] = (spec["header"], header_width(spec["header"]))
        self.headers.append(self.row)
        self.ws.add_table(self.row, col0, last + (1 if has_total else 0), col0 + len(cols) - 1, {
            "name": name, "columns": columns, "total_row": has_total, "style": "Table Style Medium 2",
            "autofilter": True,
        })
        self.cells(first, col0, cols, records)
        self.fit_rows(first, [(col0 + c, col.key) for c, col in enumerate(cols) if col.kind == "wrap"], records)
        if has_total:
            # XlsxWriter writes SUBTOTAL(109,[Column]); spelled with the table's name, as Excel itself
            # saves it, every spreadsheet program resolves the reference.
            for c, (col, spec) in enumerate(zip(cols, columns, strict=True)):
                if "total_function" in spec:
                    code = 109 if col.total == "sum" else 103
                    self.ws.write_formula(last + 1, col0 + c, f"=SUBTOTAL({code},{structured_ref(name, spec['header'])})",
                                          spec.get("format"), spec["total_value"])
        self.row = last + (2 if has_total else 1) + 1
        return first, last

    def fit_rows(self, first: int, wrapped: Sequence[tuple[int, str]], records: Sequence[dict]) -> None:
        """Rows tall enough for their wrapped text (XlsxWriter cannot autofit, and not every viewer does)."""
        if not wrapped:
            return
        for r, record in enumerate(records):
            lines = max(wrapped_lines(str(record.get(key) or ""), self.widths.get(c, 10)) for c, key in wrapped)
            if lines > 1:
                self.ws.set_row(first + r, 13.5 * lines)

    def cells(self, first: int, col0: int, cols: Sequence[Col], records: Sequence[dict]) -> None:
        """Every record's values, row by row, exactly as :meth:`cell` writes each (a table is most of a
        workbook's cells: 0.6 M in a report at 50 reps).

        The format of each column is looked up once. On a :class:`~sheetsales.outputs.rows.FastSheet`
        the rows are handed over as a block and written as XML when the workbook is packaged;
        otherwise the common values (text, finite numbers, blanks) go straight to XlsxWriter's own
        writer methods. Anything else takes :meth:`cell`. The cells written are the same, value, type
        and format.
        """
        plan = [(col0 + c, col.key, col.kind, self.fmts.get(col.kind)) for c, col in enumerate(cols)]
        if isinstance(self.ws, FastSheet):
            self.ws.add_rows(first, plan, records, self.cell, self.fmts["date"])
            return
        for row, record in enumerate(records, first):
            put_row(self.ws, row, plan, record, self.cell)

    def cell(self, row: int, col: int, value: Any, kind: str) -> None:
        """Write one value; never raises on a value Excel cannot hold (it is written as text and logged)."""
        ws, f = self.ws, self.fmts
        if value is None or value == "":
            ws.write_blank(row, col, None, f.get(kind))
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, dt.date):
            if 1900 <= value.year <= 9999:
                ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), f["date"])
            else:  # before Excel's calendar starts: the date as text
                self.bad_value(row, col, value.isoformat())
        elif isinstance(value, int | float):
            if _writable(value):
                ws.write_number(row, col, value, f.get(kind))
            else:
                self.bad_value(row, col, repr(value))
        else:
            ws.write_string(row, col, str(value), f.get(kind))  # reps' text is never a formula

    def bad_value(self, row: int, col: int, text: str) -> None:
        """A value that could not be validated reached the writer: shown as text, logged, never raised."""
        from xlsxwriter.utility import xl_rowcol_to_cell

        where = f"{self.ws.name}!{xl_rowcol_to_cell(row, col)}"
        log.warning(t("output.bad_value", self.lang, where=where, value=text))
        self.ws.write_string(row, col, text, self.fmts.get("text"))

    def finish(self, freeze_row: int | None = None) -> None:
        """Widths, frozen rows and print set-up.

        A sheet with one table freezes exactly its header row (and repeats it on every printed
        page); a sheet with several gets an index under its title, a link to each table's heading,
        and freezes down to the index. Printed landscape, one page wide, the date in the footer.
        """
        ws = self.ws
        for c, w in self.widths.items():
            ws.set_column(c, c, w)
        several = len(self.headers) > 1 and self.index_row is not None and bool(self.headings)
        if several:
            self._index()
        if freeze_row is None and len(self.headers) == 1:
            freeze_row = self.headers[0] + 1
            ws.repeat_rows(self.headers[0])
        elif freeze_row is None and several:
            freeze_row = self.index_row + 1
        if freeze_row:
            ws.freeze_panes(freeze_row, 0)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        footer = self.footer.replace("&", "&&")
        ws.set_footer(f"&L&8sheetsales · {ws.name}" + (f" · {footer}" if footer else "") + "&R&8&P / &N")

    def _index(self) -> None:
        """Links to the sheet's tables in the row under the title, each spanning enough columns to show."""
        self.ws.write_string(self.index_row, 0, t("index.go_to", self.lang), self.fmts["sub"])
        col = 1
        for text, row in self.headings:
            need, span = display_width(text) + 2, 0
            room = 0.0
            while room < need or span == 0:
                room += self.widths.get(col + span, 8.43)
                span += 1
            link = f"internal:'{self.ws.name}'!A{row + 1}"
            if span > 1:
                self.ws.merge_range(self.index_row, col, self.index_row, col + span - 1, "", self.fmts["link"])
            self.ws.write_url(self.index_row, col, link, self.fmts["link"], string=text)
            col += span


def _writable(value: float) -> bool:
    """A number Excel can hold: finite and within its range."""
    try:
        return math.isfinite(value) and abs(value) <= EXCEL_MAX
    except (TypeError, OverflowError):  # an integer too large for a float
        return False


def _number(value: Any) -> float:
    """``value`` as a float for a cached total; anything that is not a number counts 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        return float(value)
    except OverflowError:
        return math.inf


def structured_ref(table: str, header: str) -> str:
    """``Table[Column]``, with the escapes Excel requires for special characters in the header."""
    escaped = "".join("'" + ch if ch in "[]#'" else ch for ch in header)
    if any(ch in " \t\n,:.[]#'\"{}$^&*+=-<>/" for ch in header):
        return f"{table}[[{escaped}]]"
    return f"{table}[{escaped}]"


def _formats(wb: xlsxwriter.Workbook) -> dict[str, Any]:
    base = {"font_name": "Microsoft YaHei", "font_size": 10, "valign": "vcenter"}
    # An explicit fill, so that viewers that ignore Excel's table styles still show a header.
    header = {"bold": True, "text_wrap": True, "valign": "vcenter", "bg_color": "#1F4E78",
              "font_color": "#FFFFFF", "border": 1, "border_color": "#BFBFBF"}
    return {
        "title": wb.add_format({**base, "bold": True, "font_size": 14, "font_color": "#1F3864"}),
        "sub": wb.add_format({**base, "italic": True, "font_color": "#595959"}),
        "heading": wb.add_format({**base, "bold": True, "font_size": 11, "font_color": "#1F4E78"}),
        "header": wb.add_format({**base, **header}),
        "header_num": wb.add_format({**base, **header, "align": "right"}),
        "text": wb.add_format(base),
        "money": wb.add_format({**base, "num_format": NUM_FORMATS["money"]}),
        "percent": wb.add_format({**base, "num_format": NUM_FORMATS["percent"]}),
        "date": wb.add_format({**base, "num_format": NUM_FORMATS["date"]}),
        "int": wb.add_format({**base, "num_format": "0"}),
        "number": wb.add_format({**base, "num_format": NUM_FORMATS["number"]}),
        "hidden": wb.add_format({**base, "font_color": "#FFFFFF"}),
        "wrap": wb.add_format({**base, "text_wrap": True, "valign": "top"}),
        "link": wb.add_format({**base, "font_color": "#0563C1", "underline": 1}),
        # small lists drawn beside a table (overview.draw_block): plain and banded rows
        **{f"block_{kind}{band}": wb.add_format({**base, "valign": "top", "bottom": 1, "bottom_color": "#D9D9D9",
                                                 **({"bg_color": "#DDEBF7"} if band else {}),
                                                 **({"num_format": NUM_FORMATS[kind]} if kind in NUM_FORMATS else {})})
           for kind in ("text", "money", "date", "int", "percent") for band in ("", "_band")},
        **{f"block_wrap{band}": wb.add_format({**base, "valign": "top", "text_wrap": True, "bottom": 1,
                                               "bottom_color": "#D9D9D9", **({"bg_color": "#DDEBF7"} if band else {})})
           for band in ("", "_band")},
        # conditional formats: at risk (red), watch (amber)
        "bad": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
        "warn": wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"}),
        # headline figures
        "kpi_label": wb.add_format({**base, "font_color": "#595959", "bg_color": "#F2F2F2", "top": 2,
                                    "top_color": "#1F4E78"}),
        "kpi_note": wb.add_format({**base, "font_size": 9, "font_color": "#7F7F7F", "bg_color": "#F2F2F2"}),
        **{f"kpi_{kind}": wb.add_format({**base, "bold": True, "font_size": 16, "font_color": "#1F3864",
                                         "bg_color": "#F2F2F2", "align": "left", "num_format": num})
           for kind, num in (("money", "#,##0"), ("int", "0"), ("percent", "0%"))},
    }


# A workbook of at most this many cells (its sheets' used ranges) is packaged in memory: XlsxWriter
# otherwise writes each XML part of the package (a sheet, a table, its relations) to a temporary file,
# then copies it into the zip and deletes it, three file operations per part that cost more than the
# part itself (about 4,000 parts and 2 ms each on a busy disk in a report at 50 reps: a quarter of
# building the feedback). Larger ones keep the temporary files: the parts of a 1 M-cell summary held
# in memory as text would add a hundred MB to the peak. The cells are the same either way; only the
# zip entries' dates differ (1 Jan 1980 instead of 31 Jan).
IN_MEMORY_CELLS = 250_000


class _Workbook(FastWorkbookMixin, xlsxwriter.Workbook):
    """An XlsxWriter workbook that decides when it is closed whether to package in memory, whose
    worksheets write their tables' rows directly (:mod:`sheetsales.outputs.rows`)."""

    worksheet_class = FastSheet

    def close(self) -> None:
        cells = 0
        for ws in self.worksheets():
            rows, cols = getattr(ws, "dim_rowmax", None), getattr(ws, "dim_colmax", None)
            cells += (rows + 1) * (cols + 1) if rows is not None and cols is not None else 0
        self.in_memory = self.in_memory or cells <= IN_MEMORY_CELLS
        super().close()


def _new_workbook(path: Path) -> tuple[xlsxwriter.Workbook, dict[str, Any]]:
    wb = _Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    wb.set_properties({"title": "sheetsales", "author": "sheetsales"})
    return wb, _formats(wb)


def _label(level: str, group: str, lang: str) -> str:
    # A region summary's top rows are its region's ("company" level, the region's name as group).
    return t("level.company", lang) if level == "company" and group == "*" else group


# --------------------------------------------------------------------------------------------
# Column sets, shared by summary and feedback
# --------------------------------------------------------------------------------------------
FUNNEL_COLS = (Col("stage_order", "col.stage_order", "int", 6), Col("stage", "col.stage", width=16),
               Col("funnel_state_label", "col.funnel_state", width=12), Col("count", "col.count", "int", 9, "sum"),
               Col("amount", "col.amount", "money", 16, "sum"), Col("weighted", "col.weighted", "money", 16, "sum"))
GROUP_FUNNEL_COLS = (Col("group", "col.group", width=14),) + FUNNEL_COLS
STATE_COLS = (Col("group", "col.group", width=14), Col("funnel_state_label", "col.funnel_state", width=12),
              Col("count", "col.count", "int", 9, "sum"), Col("amount", "col.amount", "money", 16, "sum"),
              Col("weighted", "col.weighted", "money", 16, "sum"))
FORECAST_COLS = (Col("group", "col.group", width=14), Col("month", "col.month", width=10),
                 Col("actual", "col.actual", "money", 16, "sum"),
                 Col("weighted", "col.weighted", "money", 16, "sum"), Col("target", "col.target", "money", 16, "sum"),
                 Col("gap", "col.gap", "money", 16, "sum"))
# One row per deal (review.by_deal): what changed, as columns.
REVIEW_COLS = (Col("rep", "col.rep", width=8), Col("rep_name", "col.rep_name", width=10),
               Col("customer", "col.customer", width=40), Col("category", "col.category", width=14),
               Col("amount", "col.amount", "money", 14, "sum"), Col("status_label", "col.status", width=12),
               Col("stage_before", "col.stage_before", width=10), Col("stage_after", "col.stage_after", width=10),
               Col("amount_before", "col.amount_before", "money", 14),
               Col("amount_after", "col.amount_after", "money", 14),
               Col("date_before", "col.date_before", "date", 12), Col("date_after", "col.date_after", "date", 12),
               Col("change_label", "col.changes", width=20), Col("deal", "col.deal", width=14, total="count"))
OPP_COLS = (Col("deal", "col.deal", width=14, total="count"), Col("rep", "col.rep", width=8),
            Col("rep_name", "col.rep_name", width=10), Col("team", "col.team", width=10),
            Col("region", "col.region", width=8), Col("customer", "col.customer", width=40),
            Col("category", "col.category", width=14), Col("model", "col.model", width=10),
            Col("stage_order", "col.stage_order", "int", 6), Col("stage", "col.stage", width=12),
            Col("claimed_stage", "col.claimed_stage", width=12), Col("claim_above", "col.claim_above", "int", 8),
            Col("c931", "col.c931", width=10),
            Col("probability", "col.probability", "percent", 8), Col("amount", "col.amount", "money", 15, "sum"),
            Col("weighted", "col.weighted", "money", 15, "sum"), Col("sign_date", "col.sign_date", "date", 12),
            Col("sign_passed", "col.sign_passed", width=6), Col("days_in_stage", "col.days_in_stage", "int", 10),
            Col("limit_days", "col.limit_days", "int", 8), Col("days_left", "col.days_left", "int", 8),
            Col("status_label", "col.status", width=12), Col("claimed_by", "col.claimed_by", width=8))
RISK_MARK = "✓"
ISSUE_COLS = (Col("rep", "col.rep", width=8, total="count"), Col("rep_name", "col.rep_name", width=10),
              Col("position", "col.position", width=40), Col("code", "col.code", width=18),
              Col("severity_label", "col.severity", width=8), Col("message", "col.message", "wrap", 70),
              Col("file", "col.file", width=28), Col("sheet", "col.sheet", width=12), Col("cell", "col.cell", width=8))
# Severity first, a readable name; the stable code in its own column for filtering.
ALERT_COLS = (Col("severity_label", "col.severity", width=8, total="count"),
              Col("alert_name", "col.alert_name", width=16), Col("person", "col.person", width=8),
              Col("person_name", "col.rep_name", width=10), Col("customer", "col.customer", width=40),
              Col("message", "col.message", "wrap", 70), Col("deal", "col.deal", width=14),
              Col("code", "col.code", width=24))


def _decorate(summary: Summary) -> dict[str, list[dict]]:
    """Records with display labels added (the summary's records keep stable keys)."""
    lang = summary.lang
    names = {p["rep"]: p["rep_name"] for p in summary.people}

    def state(r: dict) -> dict:
        return {**r, "funnel_state_label": choice_label(FUNNEL_STATES, r["funnel_state"], lang),
                "group": _label(r["level"], r["group"], lang)}

    risk = overview.risk_by_deal(summary)

    def opportunity(r: dict) -> dict:
        flags = risk.get(r["deal"], {})
        return {**r, "status_label": t(f"status.{r['status']}", lang), "limit_days": flags.get("limit_days"),
                "days_left": flags.get("days_left"), "sign_passed": RISK_MARK if flags.get("sign_date_passed") else "",
                "claim_above": flags.get("claim_above") or None}

    return {
        "funnel": [state(r) for r in summary.funnel],
        "funnel_states": [state(r) for r in summary.funnel_states],
        "forecast": [{**r, "group": _label(r["level"], r["group"], lang)} for r in summary.forecast],
        "opportunities": [opportunity(r) for r in summary.opportunities],
        "issues": [{**r, "severity_label": t(f"severity.{r['severity']}", lang)} for r in summary.issues],
        "small_deals": [{**r, "status_label": t(f"status.{r['status']}", lang)} for r in summary.small_deals],
        # One row for every person an alert is addressed to: the most severe first, then by person.
        "alerts": sorted(({**r, "person": p, "person_name": names.get(p, p), "alert_name": alert_name(r["code"], lang),
                           "severity_label": t(f"severity.{r['severity']}", lang)}
                          for r in summary.alerts for p in r["people"]),
                         key=lambda r: (SEVERITY_RANK.get(r["severity"], 9), r["person"], r["code"], r["customer"])),
        # Each person's figures: a supervisor's feedback shows their team's rows, not every alert of it.
        "team": overview.person_rows(summary),
    }


# --------------------------------------------------------------------------------------------
# The summary workbook
# --------------------------------------------------------------------------------------------
def summary_sheet_names(lang: str) -> list[str]:
    return [t(k, lang) for k in ("sheet.overview", "sheet.funnel", "sheet.forecast", "sheet.mpc_review",
                                  "sheet.opportunities", "sheet.small_deals", "sheet.alerts", "sheet.issues")]


LAYOUT = "4"  # changes whenever the writer draws the same figures differently: every output is rebuilt once


def write_summary(summary: Summary, path: Path, problems: list[OutputProblem] | None = None,
                  manifest: Manifest | None = None, digest: str | None = None) -> Path:
    """Write ``summary.xlsx`` atomically, unless the file there already shows exactly this content.

    The fingerprint covers every figure, the date shown in the titles (a new day rebuilds it), the
    language and the writer's layout and code; the file's size and modification time, recorded in
    ``manifest`` (default: the one of ``path``'s folder) when it was written, tell that nobody
    replaced or damaged it since. A summary that went to a timestamped copy records nothing, so the
    next run tries its target again. ``digest`` is a fingerprint already taken (a report's comes from
    what its figures were computed from: :func:`figures_digest`); without it the content is hashed.
    """
    own = manifest is None
    manifest = Manifest.load(path.parent) if manifest is None else manifest
    digest = summary_digest(summary) if digest is None else digest
    if manifest.current(path, digest):
        return path
    names = summary_sheet_names(summary.lang)  # the sections' sheets join them as they are added
    target = atomic_write(path, lambda tmp: _build_summary(summary, tmp, names),
                          lambda tmp: check_workbook(tmp, names), problems=problems)
    manifest.record(path, digest, target)
    if own:
        manifest.save()
    return target


def summary_digest(summary: Summary) -> str | None:
    """The fingerprint of everything the summary workbook shows (None: it cannot be taken, write it)."""
    return fingerprint(LAYOUT, __version__, code_signature(), *(getattr(summary, f.name) for f in fields(summary)))


def figures_digest(key: str) -> str | None:
    """The summary workbook's fingerprint from the key of what its figures were computed from
    (:func:`sheetsales.analyses.figures.figures_key`: the store's content, the date, the language, the
    playbook, the settings, the code). The same key gives the same figures, so it tells an unchanged
    summary as surely as hashing the figures, at no cost: hashing them was a third of a summary's
    build after a save. A new key rewrites it even when its figures happen to come out the same."""
    return fingerprint(LAYOUT, __version__, code_signature(), "figures", key) if key else None


# The company summary of the report under way, in the pool's worker (and the names its texts mention,
# found once): handed first, so the region jobs handed after it find it there (one worker runs its
# jobs in the order handed).
_SHARED: dict[str, tuple[Summary, Any]] = {}

# What became of a region's summary: (its fingerprint, unchanged since recorded, the error and its
# traceback or None).
RegionOutcome = tuple[str | None, bool, tuple[str, str] | None]


def _share(token: str, summary: Summary) -> None:
    """In the worker: keep ``summary`` for the region jobs of the same report (``token``)."""
    _SHARED.clear()
    _SHARED[token] = (summary, None)


def _region_in_worker(token: str, region: str, tmp: Path, recorded: str | None) -> RegionOutcome | None:
    """In the worker: :func:`region_outcome` from the shared summary; None when it never arrived (the
    report's process then does the job itself)."""
    if token not in _SHARED:
        return None
    summary, mentions = _SHARED[token]
    if mentions is None:
        mentions = _mentions_of(summary)
        _SHARED[token] = (summary, mentions)
    return region_outcome(summary, mentions, region, tmp, recorded)


def _mentions_of(summary: Summary) -> Any:
    from ..method.scopes import Mentions

    return Mentions(summary)


def region_outcome(summary: Summary, mentions: Any, region: str, tmp: Path, recorded: str | None) -> RegionOutcome:
    """``summary`` cut to ``region``, its fingerprint taken, and built and checked into ``tmp`` unless
    that fingerprint is ``recorded`` (the one its file was written from, the file intact)."""
    from ..method.scopes import region_summary

    try:
        cut = region_summary(summary, region, mentions)
        digest = summary_digest(cut)
    except Exception as exc:
        return None, False, (describe(exc), traceback.format_exc())
    if digest is not None and digest == recorded:
        return digest, True, None
    return digest, False, _build_summary_checked(cut, tmp)


class RegionJobs:
    """The region summaries of one report, cut, fingerprinted and built in the pool's worker while this
    process builds the company's summary (the company summary is sent to the worker once), then moved
    into place here. A job the worker has not started when this process is free is done here."""

    def __init__(self, summary: Summary, targets: dict[str, Path], manifest: Manifest) -> None:
        self.summary, self.targets, self.manifest = summary, targets, manifest
        self.token = uuid.uuid4().hex  # this report's summary in the worker
        self.futures: dict[str, Any] = {}
        self.tmps: dict[str, Path] = {}
        self.recorded = {region: manifest.recorded(path) for region, path in targets.items()}
        self.pool: Pool | None = None
        self._mentions: Any = None

    def start(self, pool: Pool | None) -> None:
        for region, path in self.targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(path)
            self.tmps[region] = temp_path(path)
        if pool is None or not self.targets:
            return
        if pool.submit(_share, self.token, self.summary, here=lambda: None) is None:
            return
        self.pool = pool
        for region in self.targets:
            self.futures[region] = pool.submit(_region_in_worker, self.token, region, self.tmps[region],
                                               self.recorded[region], here=self._here(region, self.recorded[region]))

    def _here(self, region: str, recorded: str | None) -> Callable[[], RegionOutcome]:
        """``region``'s job, done in this process (``recorded``: the fingerprint its file has)."""
        def run() -> RegionOutcome:
            if self._mentions is None:
                self._mentions = _mentions_of(self.summary)
            return region_outcome(self.summary, self._mentions, region, self.tmps[region], recorded)
        return run

    def finish(self, region: str, problems: list[OutputProblem]) -> Path | None:
        """Where ``region``'s workbook went (its target, or a timestamped copy); None when it could not
        be written (recorded in ``problems``, the previous file stays)."""
        path, tmp = self.targets[region], self.tmps[region]
        try:
            here = self._here(region, self.recorded[region])
            got: Any = _result(self.futures.get(region), here, path.name, self.pool)
            if got is None:  # the worker never had the summary
                got = here()
            if len(got) == 2:  # the job never ran (it could not be sent to the worker): its error
                got = (None, False, got)
            digest, unchanged, error = got
            if unchanged and not self.manifest.current(path, digest):  # replaced since: built now
                digest, unchanged, error = self._here(region, None)()
            if unchanged:
                return path
            if error is not None:
                log.error("%s could not be written: %s\n%s", path, error[0], error[1].rstrip())
                problems.append(OutputProblem(path, error[0]))
                return None
            try:
                target = move_into_place(tmp, path, problems=problems)
            except Exception as exc:
                log.error("%s could not be written: %s", path, describe(exc), exc_info=True)
                problems.append(OutputProblem(path, describe(exc)))
                return None
            self.manifest.record(path, digest, target)
            return target
        finally:
            if tmp.exists():
                tmp.unlink()


def _build_summary_checked(summary: Summary, tmp: Path) -> tuple[str, str] | None:
    """Build one summary workbook into ``tmp`` and check it in full; the error and its traceback, or None."""
    try:
        names = summary_sheet_names(summary.lang)
        _build_summary(summary, tmp, names)
        check_workbook(tmp, names)
    except Exception as exc:
        return describe(exc), traceback.format_exc()
    return None


def _build_summary(summary: Summary, path: Path, names: list[str] | None = None) -> None:
    lang = summary.lang
    rec = _decorate(summary)
    wb, f = _new_workbook(path)
    sub = t("as_of", lang, date=summary.as_of.isoformat()) + "  ·  " + summary.currency
    ws_ov, ws_f, ws_fc, ws_r, ws_o, ws_s, ws_a, ws_i = (wb.add_worksheet(n) for n in summary_sheet_names(lang))

    # --- Overview: the headline, one row per person, the deals most at risk ------------------
    overview.draw_summary(SheetWriter(wb, ws_ov, lang, f), summary,
                          {"opportunities": ws_o.name, "issues": ws_i.name}, sub)

    # --- Funnel -----------------------------------------------------------------------------
    w = SheetWriter(wb, ws_f, lang, f)
    w.title(t("title.funnel", lang), sub)
    company = [r for r in rec["funnel"] if r["level"] == "company"]
    first, last = w.table("Funnel", GROUP_FUNNEL_COLS, company)
    _funnel_chart(wb, ws_f, names_sheet=ws_f.name, records=company, first=first, last=last, lang=lang)
    w.row = max(w.row, first + 22)
    w.heading(t("title.funnel_states", lang))
    # State tables start in column C so that their numbers line up under the stage tables'.
    w.table("FunnelStates", STATE_COLS, [r for r in rec["funnel_states"] if r["level"] == "company"], col0=2)
    for level, name in (("region", "FunnelByRegion"), ("team", "FunnelByTeam"), ("rep", "FunnelByRep")):
        w.heading(t("title.by_level", lang, level=t("level." + level, lang)))
        w.table(name, GROUP_FUNNEL_COLS, [r for r in rec["funnel"] if r["level"] == level])
    w.heading(f"{t('title.funnel_states', lang)} · {t('title.by_level', lang, level=t('level.rep', lang))}")
    w.table("FunnelStatesByRep", STATE_COLS, [r for r in rec["funnel_states"] if r["level"] == "rep"], col0=2)
    w.finish()

    # --- Forecast -----------------------------------------------------------------------------
    w = SheetWriter(wb, ws_fc, lang, f)
    w.title(t("title.forecast", lang), sub)
    company = [r for r in rec["forecast"] if r["level"] == "company"]
    first, last = w.table("Forecast", FORECAST_COLS, company)
    _forecast_chart(wb, ws_fc, company, first, last, lang)
    w.row = max(w.row, first + 20)
    for level, name in (("region", "ForecastByRegion"), ("team", "ForecastByTeam"), ("rep", "ForecastByRep")):
        w.heading(t("title.by_level", lang, level=t("level." + level, lang)))
        w.table(name, FORECAST_COLS, [r for r in rec["forecast"] if r["level"] == level])
    w.finish()

    # --- MPC review -------------------------------------------------------------------------
    w = SheetWriter(wb, ws_r, lang, f)
    w.title(t("title.mpc_review", lang), sub)
    w.heading(t("title.mpc_review_deals", lang))
    w.table("MPCReview", REVIEW_COLS, review.by_deal(summary.mpc_review, lang))
    weekly.draw_review_notes(w, weekly.latest_notes(summary))  # what each rep's weekly report says
    w.finish()

    # --- Opportunities ------------------------------------------------------------------------
    w = SheetWriter(wb, ws_o, lang, f)
    w.title(t("title.opportunities", lang), sub)
    first, last = w.table("Opportunities", OPP_COLS, rec["opportunities"])
    _risk_formats(w, OPP_COLS, first, last, summary)
    w.finish()
    w = SheetWriter(wb, ws_s, lang, f)
    w.title(t("title.small_deals", lang), sub)
    w.table("SmallDeals", OPP_COLS, rec["small_deals"])
    w.finish()

    # --- Alerts -----------------------------------------------------------------------------
    w = SheetWriter(wb, ws_a, lang, f)
    w.title(t("title.alerts", lang), sub)
    first, last = w.table("Alerts", ALERT_COLS, rec["alerts"])
    _severity_formats(w, ALERT_COLS, first, last)
    w.finish()

    # --- Data issues ------------------------------------------------------------------------
    w = SheetWriter(wb, ws_i, lang, f)
    w.title(t("title.issues", lang), sub)
    w.table("DataIssues", ISSUE_COLS, rec["issues"])
    w.finish()

    # --- the sections of the capability modules (sections.MODULES) ---------------------------
    book = sections.Book(wb, f, lang, sub, names if names is not None else [])
    sections.summary_sheets(book, summary)

    ws_ov.activate()
    wb.close()


def _col_of(cols: Sequence[Col], key: str) -> int:
    return next(i for i, c in enumerate(cols) if c.key == key)


def _risk_formats(w: SheetWriter, cols: Sequence[Col], first: int, last: int, summary: Summary) -> None:
    """Red and amber on the risk columns of a deals table, data bars on the weighted value."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    ws, f, lang = w.ws, w.fmts, w.lang
    lead = overview.lead_days(summary)

    def rule(key: str, formula: str, fmt: str) -> None:
        c = _col_of(cols, key)
        ref = xl_rowcol_to_cell(first, c, col_abs=True)
        ws.conditional_format(first, c, last, c, {"type": "formula", "criteria": formula.format(c=ref),
                                                   "format": f[fmt]})

    rule("days_left", "=AND(ISNUMBER({c}),{c}<=0)", "bad")
    rule("days_left", f"=AND(ISNUMBER({{c}}),{{c}}<={lead})", "warn")
    rule("sign_passed", f'={{c}}="{RISK_MARK}"', "bad")
    rule("claim_above", "=AND(ISNUMBER({c}),{c}>0)", "warn")
    for status in ("confiscated", "dropped"):
        rule("status_label", f'={{c}}="{t("status." + status, lang)}"', "bad")
    c = _col_of(cols, "weighted")
    ws.conditional_format(first, c, last, c, {"type": "data_bar", "bar_color": "#63BE7B", "bar_solid": True})


def _severity_formats(w: SheetWriter, cols: Sequence[Col], first: int, last: int) -> None:
    c = _col_of(cols, "severity_label")
    for severity, fmt in (("error", "bad"), ("warning", "warn")):
        w.ws.conditional_format(first, c, last, c, {"type": "cell", "criteria": "==",
                                                    "value": f'"{t("severity." + severity, w.lang)}"',
                                                    "format": w.fmts[fmt]})


def _funnel_chart(wb: xlsxwriter.Workbook, ws: Worksheet, names_sheet: str, records: list[dict],
                  first: int, last: int, lang: str) -> None:
    """A stacked bar chart whose invisible first series centres the bars: a funnel."""
    pad_col = 8  # column I, under the chart, holds the padding (white text)
    amounts = [_number(r["amount"]) for r in records]
    biggest = max((a for a in amounts if _writable(a)), default=0)
    fmt_hidden = wb.add_format({"font_color": "#FFFFFF"})
    for i, amount in enumerate(amounts):
        ws.write_number(first + i, pad_col, (biggest - amount) / 2 if _writable(amount) else 0, fmt_hidden)
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    chart.add_series({"name": "pad", "categories": [names_sheet, first, 2, last, 2],
                      "values": [names_sheet, first, pad_col, last, pad_col],
                      "fill": {"none": True}, "border": {"none": True}})
    chart.add_series({"name": t("col.amount", lang), "categories": [names_sheet, first, 2, last, 2],
                      "values": [names_sheet, first, 5, last, 5], "fill": {"color": "#2E75B6"},
                      "data_labels": {"value": True, "num_format": "#,##0;-#,##0;;"}, "gap": 15})
    chart.set_title({"name": t("chart.funnel", lang), "name_font": {"size": 12}})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"visible": False, "major_gridlines": {"visible": False}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": 380})
    ws.insert_chart(first - 1, 8, chart)


def _forecast_chart(wb: xlsxwriter.Workbook, ws: Worksheet, records: list[dict], first: int, last: int,
                    lang: str) -> None:
    # Won so far and the weighted pipeline stacked, against the target as a line.
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    name = ws.name
    chart.add_series({"name": t("col.actual", lang), "categories": [name, first, 1, last, 1],
                      "values": [name, first, 2, last, 2], "fill": {"color": "#548235"}})
    chart.add_series({"name": t("col.weighted", lang), "categories": [name, first, 1, last, 1],
                      "values": [name, first, 3, last, 3], "fill": {"color": "#2E75B6"}})
    target = wb.add_chart({"type": "line"})
    target.add_series({"name": t("col.target", lang), "categories": [name, first, 1, last, 1],
                       "values": [name, first, 4, last, 4], "line": {"color": "#C55A11", "width": 2.25},
                       "marker": {"type": "diamond", "size": 6, "fill": {"color": "#C55A11"},
                                  "border": {"color": "#C55A11"}}})
    chart.combine(target)
    chart.set_title({"name": t("chart.forecast", lang), "name_font": {"size": 12}})
    chart.set_y_axis({"num_format": "#,##0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 340})
    ws.insert_chart(first - 1, 7, chart)


# --------------------------------------------------------------------------------------------
# Per-person feedback
# --------------------------------------------------------------------------------------------
PARALLEL_MIN = 8  # feedback workbooks to build before a process pool pays for its start
WORKERS = 2


def scope(summary: Summary, person_id: str) -> set[str]:
    """The person and everybody under them, through the supervisor chain."""
    return _scopes(summary.people, [person_id])[person_id]


def _scopes(people: Sequence[dict], ids: Sequence[str]) -> dict[str, set[str]]:
    """The scope of each of ``ids``, from one pass over the supervisor tree (a cycle ends the walk)."""
    below: dict[str, list[str]] = {}
    for p in people:
        below.setdefault(p["supervisor"], []).append(p["rep"])
    scopes = {}
    reach = reach_all(people)
    for person_id in ids:
        out, todo = set(), [person_id]
        while todo:
            pid = todo.pop()
            if pid in out:
                continue
            out.add(pid)
            todo += below.get(pid, [])
        scopes[person_id] = out | reach.get(person_id, {person_id})  # the reach of their permission level
    return scopes


class FeedbackIndex:
    """Every person's feedback records, picked from an index by person built once.

    Each decorated record is hashed once; a person's content digest is the hash of their records'
    hashes (in order), so a supervisor's digest costs a join of short strings, not a dump of the
    whole scope.
    """

    def __init__(self, summary: Summary, rec: dict[str, list[dict]]) -> None:
        self.summary, self.rec = summary, dict(rec)
        self.scopes = _scopes(summary.people, [p["rep"] for p in summary.people])
        # (table, the field naming the person, whether a supervisor gets their whole scope's records):
        # a supervisor gets the issues and alerts addressed to them, and one row of figures per person
        # of their team ("team"); each person's detail is in that person's own feedback.
        self.tables: list[tuple[str, str, bool]] = [("issues", "rep", False), ("alerts", "person", False),
                                                    ("opportunities", "rep", False), ("team", "rep", True)]
        for key, pt in sections.feedback_tables():
            name = f"{key}/{pt.table}"
            self.rec[name] = summary.sections.get(key, {}).get(pt.table, [])
            self.tables.append((name, pt.field, pt.scope))
        self.by_person: dict[str, dict[str, list[int]]] = {key: {} for key, _, _ in self.tables}
        for key, field_, _ in self.tables:
            for i, r in enumerate(self.rec[key]):
                self.by_person[key].setdefault(r.get(field_), []).append(i)
        self.hashes = {key: [record_hash(r) for r in self.rec[key]] for key, _, _ in self.tables}

    def positions(self, person_id: str) -> dict[str, list[int]]:
        """Where ``person_id``'s records are in each table, in the tables' order."""
        who = self.scopes.get(person_id) or {person_id}
        return {key: _merged(self.by_person[key], who) if scope else self.by_person[key].get(person_id, [])
                for key, _, scope in self.tables}

    def records(self, positions: dict[str, list[int]]) -> dict[str, list[dict]]:
        return {key: [self.rec[key][i] for i in positions[key]] for key, _, _ in self.tables}

    def digest(self, person: dict, positions: dict[str, list[int]]) -> str | None:
        """The fingerprint of ``person``'s workbook: the writer, the head every workbook is built with
        (date, language, currency, thresholds), the person and their records; None: write it."""
        summary = self.summary
        head = fingerprint(LAYOUT, __version__, code_signature(), summary.as_of, summary.lang, summary.currency,
                           overview.thresholds(summary), person)
        if head is None:
            return None
        h = hashlib.sha256(head.encode())
        for key, _, _ in self.tables:
            picked = [self.hashes[key][i] for i in positions[key]]
            if None in picked:  # a record that cannot be spelled exactly
                return None
            h.update(f"|{key}:{len(positions[key])}|".encode())
            h.update(b"".join(picked))  # type: ignore[arg-type]
        return h.hexdigest()


def _merged(index: dict[str, list[int]], who: set[str]) -> list[int]:
    lists = [index[p] for p in who if p in index]
    if len(lists) == 1:
        return lists[0]
    return sorted(i for positions in lists for i in positions)


@dataclass
class _Job:
    person: dict
    path: Path
    records: dict[str, list[dict]]
    digest: str
    tmp: Path | None = None
    error: tuple[str, str] | None = None  # (the error in one line, its traceback)


def write_feedback(summary: Summary, folder: Path, problems: list[OutputProblem] | None = None,
                   workers: int | None = None) -> list[Path]:
    """``feedback/<id>.xlsx`` for every person: the issues and alerts of their scope, and their own deals.

    A supervisor's scope is their whole team (through the supervisor chain); the team's deals are in
    the summary, so a feedback workbook lists only the person's own. Each workbook is its own unit:
    one that fails to build, check or be written is recorded in ``problems`` (its previous file
    stays) and the others are still written. A workbook whose content is unchanged since it was
    written is not built again. When more than :data:`PARALLEL_MIN` are to be built, they are built
    and checked in a pool of ``workers`` processes (default :data:`WORKERS`; 1 builds them here);
    they are moved into place here, in the order of the team. Returns where each workbook went.
    """
    return FeedbackRun(summary, folder, workers).finish(problems)


class FeedbackRun:
    """The feedback workbooks of one report, started (handed to the pool when there are many) so the
    caller can build the summary meanwhile, then finished: moved into place in the team's order."""

    def __init__(self, summary: Summary, folder: Path, workers: int | None = None,
                 books: dict[str, str] | None = None, manifest: Manifest | None = None,
                 pool: Pool | None = None) -> None:
        """``books``: supervisor id -> the decisions workbook their feedback tells them to use (waiting.py).
        ``manifest``: what each output was written from (default: the folder's own, saved by :meth:`finish`);
        ``pool``: a report's pool, shared with its other outputs (default: one of ``workers`` processes)."""
        self.summary, self.folder = summary, folder
        self.workers = WORKERS if workers is None else workers
        self.own_manifest = manifest is None
        self.manifest = Manifest.load(folder) if manifest is None else manifest
        self.failures: list[tuple[Path, dict, str, str]] = []
        self.slots: list[Path | _Job | None] = []
        self.own_pool = pool is None
        self.pool = Pool(self.workers) if pool is None else pool
        self.futures: list[Any] = []
        try:
            index = FeedbackIndex(summary, _decorate(summary))
        except Exception as exc:  # every workbook needs the index: none can be built
            trace = traceback.format_exc()
            for person in summary.people:
                self.failures.append((folder / f"{person['rep']}.xlsx", person, describe(exc), trace))
                self.slots.append(None)
            return
        for person in summary.people:
            path = folder / f"{person['rep']}.xlsx"
            try:
                positions = index.positions(person["rep"])
                book = (books or {}).get(person["rep"])
                digest = index.digest({**person, "decisions_book": book} if book else person, positions)
                if self.manifest.current(path, digest):
                    self.slots.append(path)  # unchanged since it was written: a save elsewhere costs nothing here
                    continue
                job = _Job(person, path, index.records(positions) | ({"decisions_book": [{"file": book}]}
                                                                     if book else {}), digest)
                path.parent.mkdir(parents=True, exist_ok=True)
                remove_stale_temps(path)
                job.tmp = temp_path(path)
                self.slots.append(job)
            except Exception as exc:  # one person's workbook never keeps the others from being written
                self.failures.append((path, person, describe(exc), traceback.format_exc()))
                self.slots.append(None)
        self.head = Summary(as_of=summary.as_of, lang=summary.lang, currency=summary.currency,  # all a workbook needs
                            sections={overview.KEY: {"thresholds": overview.thresholds(summary)}})
        self.jobs = [s for s in self.slots if isinstance(s, _Job)]
        if self.jobs and (self.pool.started or len(self.jobs) > PARALLEL_MIN):  # else: built here
            self.futures = [self.pool.submit(_build_checked, self.head, job.person, job.records, job.tmp)
                            for job in self.jobs]

    def finish(self, problems: list[OutputProblem] | None = None,
               progress: Callable[[str], None] | None = None) -> list[Path]:
        """Wait for the workbooks, move each into place; returns where each went, in the team's order.
        ``progress`` is told the person of each workbook as it is ready (built, or unchanged)."""
        problems = [] if problems is None else problems
        self.progress = progress or (lambda _who: None)
        for slot, person in zip(self.slots, self.summary.people, strict=False):
            if not isinstance(slot, _Job):
                self.progress(person["rep"])
        for failure in self.failures:
            _failed(*failure, problems)
        if not hasattr(self, "jobs"):
            return []
        try:
            self._collect()
        finally:
            if self.own_pool:
                self.pool.shutdown()
        written = []
        for slot in self.slots:
            if not isinstance(slot, _Job):
                if slot is not None:
                    written.append(slot)
                continue
            job = slot
            try:
                if job.error is not None:
                    _failed(job.path, job.person, *job.error, problems)
                    continue
                try:
                    target = move_into_place(job.tmp, job.path, problems=problems)
                except Exception as exc:
                    _failed(job.path, job.person, describe(exc), traceback.format_exc(), problems)
                    continue
                written.append(target)
                self.manifest.record(job.path, job.digest, target)
            finally:
                if job.tmp is not None and job.tmp.exists():
                    job.tmp.unlink()
        if self.own_manifest:
            self.manifest.save()
        return written

    def _collect(self) -> None:
        """Each job's workbook built and checked into its temporary file; a failure kept in ``job.error``."""
        futures = self.futures or [None] * len(self.jobs)
        for job, future in zip(self.jobs, futures, strict=True):
            job.error = _result(future, lambda job=job: _build_checked(self.head, job.person, job.records, job.tmp),
                                f"feedback for {job.person.get('rep')}", self.pool)
            self.progress(job.person["rep"])


def _failed(path: Path, person: dict, error: str, trace: str, problems: list[OutputProblem]) -> None:
    log.error("feedback for %s could not be written: %s\n%s", person.get("rep"), error, trace.rstrip())
    problems.append(OutputProblem(path, error))


def _result(future: Any, build_here: Callable[[], tuple[str, str] | None], what: str,
            pool: Pool | None = None) -> tuple[str, str] | None:
    """The outcome of a build handed to the pool (``future``), or of ``build_here`` when it was not, or
    when its worker died (killed, out of memory, a script without a ``__main__`` guard). A build this
    process took back from ``pool`` (:meth:`Pool.help`) has its outcome there."""
    if future is None:
        return build_here()
    if pool is not None and future in pool.here:
        return pool.here.pop(future)
    if pool is not None and pool.steal and future.cancel():  # not started: this process is free
        return build_here()
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool as exc:
        log.warning("%s is built in this process: %s", what, describe(exc))
        return build_here()
    except Exception as exc:  # a record that could not be sent to a worker
        return describe(exc), traceback.format_exc()


class Pool:
    """The process pool of one report's outputs: started on the first build handed to it, shared by the
    summaries and the feedback workbooks, shut down by its owner. With one worker, or when no process
    can be started, :meth:`submit` returns None and the caller builds here.

    With ``steal`` (a report), the pool has one worker fewer than :data:`WORKERS` and this process is
    the other: it builds the summary while the worker starts on the rest (the region summaries first,
    the heaviest), then :meth:`help` builds here, from the last one handed out, every build the worker
    has not started. The summary is never slowed by more builders than cores (the watcher's save →
    summary time), and both cores stay busy until the last output."""

    def __init__(self, workers: int | None = None, steal: bool = False) -> None:
        self.workers = WORKERS if workers is None else workers
        self.steal = steal
        self.processes = self.workers - 1 if steal else self.workers
        self.executor: Any = None
        self.failed = False
        self.handed: list[tuple[Any, Callable[[], Any]]] = []  # (future, the same build here), in order
        self.here: dict[Any, Any] = {}  # future -> the outcome of its build, taken back by this process
        self.starting: Any = None  # the thread starting the worker (warm)
        self.used = False  # a build was handed to the worker

    def warm(self) -> None:
        """Start the worker now, in the background (its process loads the writer: about a second this
        process would otherwise wait for at the first build handed out)."""
        import threading

        if self.workers > 1 and self.processes >= 1 and self.starting is None and self.executor is None:
            self.starting = threading.Thread(target=self._start, name="sheetsales-pool", daemon=True)
            self.starting.start()

    def _start(self) -> None:
        try:
            self.executor = _pool(self.processes)
            self.executor.submit(_ready).result()
        except Exception as exc:  # built here, one after the other
            log.warning("building the outputs in one process: %s", describe(exc))
            self.failed = True

    def help(self) -> None:
        """Build here, newest first, every build handed to the worker that it has not started."""
        while self.handed:
            future, build = self.handed.pop()
            if future.cancel():
                self.here[future] = build()

    @property
    def started(self) -> bool:
        """Builds were handed to the worker (a warmed one that has none yet is not counted)."""
        return self.used

    def submit(self, fn: Callable[..., Any], *args: Any, here: Callable[[], Any] | None = None) -> Any:
        """A future of ``fn(*args)`` in a worker, or None (build it here). ``here`` is the same work done
        in this process when it takes the job back (default ``fn(*args)``)."""
        if self.starting is not None:
            self.starting.join()
        if self.workers <= 1 or self.processes < 1 or self.failed:
            return None
        try:
            if self.executor is None:
                self.executor = _pool(self.processes)
            future = self.executor.submit(fn, *args)
            self.used = True
        except Exception as exc:  # no processes to be had here: built one after the other
            log.warning("building the outputs in one process: %s", describe(exc))
            self.failed = True
            return None
        if self.steal:
            self.handed.append((future, here if here is not None else lambda: fn(*args)))
        return future

    def shutdown(self) -> None:
        if self.starting is not None:
            self.starting.join()
        if self.executor is not None:
            self.executor.shutdown()
            self.executor = None


def _ready() -> None:
    """Nothing: the first call a warmed pool's worker runs."""


def _end_with_parent() -> None:
    """In a worker, at its start: end it when the process that started the pool is gone.

    A report killed (``kill -9``, a crash, a supervisor restarting the watcher) never shuts its pool
    down, and a pool's worker waits for work for ever: each kill would leave a process of a few
    hundred MB behind. The worker's parent sentinel (the pipe its start-up data came through, held
    open by the report) turns ready when the report ends, whichever way it ends."""
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="sheetsales-parent", daemon=True).start()


def _pool(workers: int) -> Any:
    """A process pool whose workers start from a clean process with this module loaded.

    ``forkserver`` forks each worker from a single-threaded server (never from the watcher, whose
    threads may hold locks); where it does not exist (Windows), workers are spawned.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_end_with_parent)


def _build_checked(summary: Summary, person: dict, records: dict[str, list[dict]],
                   tmp: Path) -> tuple[str, str] | None:
    """Build one feedback workbook into ``tmp`` and check it; the error and its traceback, or None."""
    try:
        _build_feedback(summary, person, records, tmp)
        check_package(tmp, [t(k, summary.lang) for k in ("sheet.issues", "sheet.alerts", "sheet.opportunities")])
    except Exception as exc:
        return describe(exc), traceback.format_exc()
    return None


def _build_feedback(summary: Summary, person: dict, records: dict[str, list[dict]], path: Path) -> None:
    lang = summary.lang
    wb, f = _new_workbook(path)
    sub = f"{person['rep']} {person['rep_name']} · " + t("as_of", lang, date=summary.as_of.isoformat())
    # First what the person should know and do this week, then the detail.
    overview.draw_feedback(SheetWriter(wb, wb.add_worksheet(t("sheet.my_week", lang)), lang, f), summary, person,
                           records, sub)
    for sheet, title, name, cols, key in (
        ("sheet.issues", "title.issues", "MyIssues", ISSUE_COLS, "issues"),
        ("sheet.alerts", "title.alerts", "MyAlerts", ALERT_COLS, "alerts"),
        ("sheet.opportunities", "title.opportunities", "MyOpportunities", OPP_COLS, "opportunities"),
    ):
        w = SheetWriter(wb, wb.add_worksheet(t(sheet, lang)), lang, f)
        w.title(t(title, lang), sub)
        first, last = w.table(name, cols, records[key])
        if key == "opportunities":
            _risk_formats(w, cols, first, last, summary)
        elif key == "alerts":
            _severity_formats(w, cols, first, last)
        w.finish()
    tables: dict[str, dict[str, list[dict]]] = {}
    for key, found in records.items():
        if "/" in key:
            section, table = key.split("/", 1)
            tables.setdefault(section, {})[table] = found
    sections.feedback_sheets(sections.Book(wb, f, lang, sub), tables, person)
    wb.close()
