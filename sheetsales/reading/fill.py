"""Filling a template as a rep would: open it with openpyxl, type values under the headers, save.

The demo uses this to produce its weeks of saves, and the tests use it to build
their inputs, so both exercise the same path a person's Excel save takes.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from .specs import FIRST_DATA_ROW, Form, Table


def _sheet(wb: Any, spec: Table | Form) -> Any:
    for name in (spec.zh, spec.en):
        if name in wb.sheetnames:
            return wb[name]
    raise KeyError(f"no sheet {spec.zh!r} / {spec.en!r}")


def fill_table(path: Path, table: Table, rows: Sequence[Mapping[str, Any]], *, clear: bool = True,
               out: Path | None = None) -> Path:
    """Write ``rows`` (column key -> value) into ``table``'s input range and save.

    With ``clear`` the previous rows are emptied first (a rep retyping the list). A value is
    written exactly as given: a string starting with ``=`` becomes a formula, as in Excel.
    """
    wb = openpyxl.load_workbook(path)
    ws = _sheet(wb, table)
    if clear:
        for row in ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=max(ws.max_row, FIRST_DATA_ROW)):
            for cell in row:
                cell.value = None
    # A cell typed into a formatted column takes the column's format (number format, unlocked),
    # as in Excel; openpyxl would otherwise leave it General and locked.
    styled = [d for d in ws.column_dimensions.values() if d.has_style and d.min and d.max]
    for r, record in enumerate(rows):
        for c, col in enumerate(table.columns, start=1):
            if col.key in record:
                value = record[col.key]
                if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    value = dt.datetime.combine(value, dt.time())
                cell = ws.cell(FIRST_DATA_ROW + r, c, value)
                column = next((d for d in styled if d.min <= c <= d.max), None)
                if column is not None:
                    cell._style = copy.copy(column._style)
    wb.save(out or path)
    return out or path


def fill_form(path: Path, form: Form, values: Mapping[str, Any], out: Path | None = None) -> Path:
    """Type ``values`` (field key -> text) beside their labels in a form sheet and save."""
    wb = openpyxl.load_workbook(path)
    ws = _sheet(wb, form)
    labels = {f.zh: f.key for f in form.fields} | {f.en: f.key for f in form.fields}
    for row in ws.iter_rows(min_col=1, max_col=1):
        cell = row[0]
        key = labels.get(str(cell.value or ""))
        if key in values:
            ws.cell(cell.row, 2, values[key])
    wb.save(out or path)
    return out or path


def set_cell(path: Path, sheet: str, ref: str, value: Any, out: Path | None = None) -> Path:
    wb = openpyxl.load_workbook(path)
    wb[sheet][ref] = value
    wb.save(out or path)
    return out or path
