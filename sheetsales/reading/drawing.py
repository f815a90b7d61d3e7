"""Drawing spec'd sheets with XlsxWriter: shared by the templates and the playbook.

One function lays out a :class:`Table` (title, hint, header, input rows with
validation, number formats, widths, frozen header, filter, protection) and one
a :class:`Form`. The readers find the same labels again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .read import col_letter
from .specs import FIRST_DATA_ROW, HEADER_ROW, HINT_ROW, TITLE_ROW, Form, Table

NUM_FORMATS = {
    "date": "yyyy-mm-dd",
    "money": "#,##0",
    "percent": "0%",
    "int": "0",
    "number": "0.0",
}

# A fixed creation date keeps generated workbooks reproducible byte for byte.
FIXED_CREATED = dt.datetime(2026, 1, 1)


class Formats:
    """The handful of cell formats every generated workbook uses, created once per workbook."""

    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": "Microsoft YaHei", "font_size": 10, "valign": "vcenter"}
        self.wb = wb
        self.base = base
        self.title = wb.add_format({**base, "bold": True, "font_size": 14, "font_color": "#1F3864"})
        self.plain = wb.add_format({**base, "locked": True})
        self.note = wb.add_format({**base, "font_size": 8, "text_wrap": True, "valign": "bottom",
                                   "font_color": "#1F4E78", "locked": True})
        self.hint = wb.add_format({**base, "italic": True, "font_color": "#595959", "text_wrap": False})
        self.header = wb.add_format({**base, "bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF",
                                     "border": 1, "border_color": "#BFBFBF", "text_wrap": True,
                                     "align": "center", "locked": True})
        self.label = wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1,
                                    "border_color": "#BFBFBF", "locked": True})
        self.locked_value = wb.add_format({**base, "bg_color": "#F2F2F2", "border": 1, "border_color": "#BFBFBF",
                                           "locked": True})
        self.wrap_input = wb.add_format({**base, "text_wrap": True, "valign": "top", "border": 1,
                                         "border_color": "#BFBFBF", "locked": False})
        self._inputs: dict[str, Any] = {}

    def input(self, kind: str) -> Any:
        if kind not in self._inputs:
            props = {**self.base, "locked": False, "border": 1, "border_color": "#D9D9D9"}
            if kind in NUM_FORMATS:
                props["num_format"] = NUM_FORMATS[kind]
            if kind == "text":
                props["num_format"] = "@"
            self._inputs[kind] = self.wb.add_format(props)
        return self._inputs[kind]


def _validation(col_kind: str, low: float | None, high: float | None, source: str | None,
                date_range: tuple[dt.date, dt.date] | None) -> dict[str, Any]:
    if col_kind in ("choice", "tick") and source:
        return {"validate": "list", "source": source}
    if col_kind == "date":
        start, end = date_range or (dt.date(2000, 1, 1), dt.date(2099, 12, 31))
        return {"validate": "date", "criteria": "between",
                "minimum": dt.datetime.combine(start, dt.time()), "maximum": dt.datetime.combine(end, dt.time())}
    if col_kind == "int":
        if high is not None:
            return {"validate": "integer", "criteria": "between", "minimum": int(low or 0), "maximum": int(high)}
        return {"validate": "integer", "criteria": ">=", "value": int(low or 0)}
    if col_kind in ("money", "number", "percent"):
        if high is not None:
            return {"validate": "decimal", "criteria": "between", "minimum": low or 0, "maximum": high}
        return {"validate": "decimal", "criteria": ">=", "value": low or 0}
    return {"validate": "any"}


def draw_table(
    wb: Workbook,
    ws: Worksheet,
    fmt: Formats,
    table: Table,
    lang: str,
    *,
    sources: Mapping[str, str | list[str]] | None = None,
    data: Sequence[Mapping[str, Any]] = (),
    date_range: tuple[dt.date, dt.date] | None = None,
    protect: bool = True,
    notes: Mapping[str, str] | None = None,
) -> None:
    """Title, hint, header and ``table.rows`` validated input rows (optionally pre-filled).

    ``notes`` (column key -> text) are written in the hint row above their columns and shown as
    the columns' input message: the milestone texts above the milestone ticks.
    """
    sources = sources or {}
    notes = notes or {}
    en = lang == "en"
    ncols = len(table.columns)
    # Title and hint rows are plain and locked across the sheet (the row format wins over the
    # columns' input format).
    ws.set_row(TITLE_ROW - 1, 24, fmt.plain)
    ws.set_row(HINT_ROW - 1, 36 if notes else None, fmt.plain)
    ws.write(TITLE_ROW - 1, 0, table.title(lang), fmt.title)
    ws.write(HINT_ROW - 1, 0, table.hint(lang), fmt.hint)
    ws.set_row(HEADER_ROW - 1, 32)
    first = FIRST_DATA_ROW - 1
    last = first + max(table.rows, len(data)) - 1
    for c, col in enumerate(table.columns):
        ws.set_column(c, c, col.width, fmt.input(col.kind) if protect else None)
        header = col.label(lang) + (" *" if col.required else "")
        ws.write(HEADER_ROW - 1, c, header, fmt.header)
        rule = _validation(col.kind, col.low, col.high, sources.get(col.choices), date_range)
        help_text = notes.get(col.key) or col.help(lang)
        if col.key in notes:
            ws.write_string(HINT_ROW - 1, c, notes[col.key], fmt.note)
        if help_text:
            rule["input_title"] = col.label(lang)[:32]
            rule["input_message"] = help_text[:255]
        if rule["validate"] == "list" and not col.strict:
            rule["error_type"] = "information"  # the list suggests; other text may still be typed
        if rule["validate"] != "any":
            rule["error_title"] = ("Invalid value" if en else "输入无效")
            rule["error_message"] = (
                f"{col.label(lang)}: {help_text or 'see the drop-down or the format'}"
                if en else f"{col.label(lang)}:{help_text or '请按下拉列表或格式填写'}")[:255]
        if rule["validate"] != "any" or help_text:
            ws.data_validation(first, c, last, c, rule)
    for r, record in enumerate(data):
        for c, col in enumerate(table.columns):
            value = record.get(col.key)
            if value is None or value == "":
                continue
            cell_fmt = fmt.input(col.kind)
            if isinstance(value, dt.date):
                ws.write_datetime(first + r, c, dt.datetime.combine(value, dt.time()), cell_fmt)
            elif isinstance(value, str):
                ws.write_string(first + r, c, value, cell_fmt)
            else:
                ws.write_number(first + r, c, value, cell_fmt)
    # The header labels are what the readers look for: a trailing " *" marks required columns.
    ws.freeze_panes(first, 0)
    ws.autofilter(HEADER_ROW - 1, 0, last, ncols - 1)
    # Printed as a filled list is read: landscape, every column on one page's width, the header on
    # every page (a template drawn portrait spread its columns over three pages).
    ws.set_landscape()
    ws.set_paper(8 if sum(col.width for col in table.columns) > 180 else 9)  # A3 for the wide lists, else A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW - 1)
    if protect:
        ws.protect("", {"sort": True, "autofilter": True, "format_columns": True, "format_rows": True,
                        "insert_rows": True, "delete_rows": True, "select_locked_cells": True,
                        "select_unlocked_cells": True})


def draw_form(ws: Worksheet, fmt: Formats, form: Form, lang: str, values: Mapping[str, Any]) -> None:
    """Labels in column A, values in column B; pre-filled fields are locked."""
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 90, fmt.wrap_input)
    ws.write(TITLE_ROW - 1, 0, form.title(lang), fmt.title)
    ws.set_row(TITLE_ROW - 1, 24)
    for i, f in enumerate(form.fields):
        r = HEADER_ROW - 1 + i
        ws.write_string(r, 0, f.label(lang), fmt.label)
        value = values.get(f.key, "")
        locked = f.prefilled and value not in ("", None)
        ws.write_string(r, 1, str(value or ""), fmt.locked_value if locked else fmt.wrap_input)
        if f.height != 15:
            ws.set_row(r, f.height)
    ws.set_paper(9)  # A4, the form's two columns on one page's width
    ws.fit_to_pages(1, 0)
    ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True})


def write_list_sheet(wb: Workbook, name: str, lists: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """A hidden sheet holding drop-down lists; returns list name -> validation source."""
    ws = wb.add_worksheet(name)
    sources = {}
    for c, (key, items) in enumerate(lists.items()):
        ws.write_string(0, c, key)
        for r, item in enumerate(items, start=1):
            ws.write_string(r, c, item)
        letter = col_letter(c)
        sources[key] = f"='{name}'!${letter}$2:${letter}${max(len(items), 1) + 1}"
    ws.hide()
    return sources


def write_meta_sheet(wb: Workbook, name: str, meta: Mapping[str, Any]) -> None:
    ws = wb.add_worksheet(name)
    for r, (k, v) in enumerate(meta.items()):
        ws.write_string(r, 0, str(k))
        ws.write_string(r, 1, "" if v is None else str(v))
    ws.very_hidden()
