"""Turn raw rows into typed records, one small check per column kind.

A row with an error is kept out; a row with only warnings counts. Every
problem is an :class:`Issue` addressed to its cell. Choice columns (stage,
product category, status) resolve through a :class:`Choices` built from the
playbook in force.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..issues import ERROR, Issue
from .read import RawTable, cell_ref
from .specs import (
    FUNNEL_STATES,
    REACH_CHOICES,
    STATUS_CHOICES,
    YESNO_CHOICES,
    Column,
    Table,
    choice_key,
    choice_label,
)


class Choices(Protocol):
    def resolve(self, kind: str, text: str) -> Any | None: ...

    def allowed(self, kind: str, lang: str) -> str: ...


class FixedChoices:
    """Choices that do not depend on a playbook (status, funnel state)."""

    tables = {"status": STATUS_CHOICES, "funnel_state": FUNNEL_STATES, "reach": REACH_CHOICES, "yesno": YESNO_CHOICES}

    def resolve(self, kind: str, text: str) -> Any | None:
        return choice_key(self.tables[kind], text) if kind in self.tables else None

    def allowed(self, kind: str, lang: str) -> str:
        table = self.tables.get(kind, {})
        return " / ".join(choice_label(table, k, lang) for k in table)


@dataclass
class Record:
    row: int  # 1-based sheet row
    values: dict[str, Any]
    cells: dict[str, str] = field(default_factory=dict)  # column key -> A1 reference


_NUMBER_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")
_EXPECTED = {
    "int": ("整数", "a whole number"),
    "number": ("数字", "a number"),
    "money": ("金额(数字)", "an amount (a number)"),
    "percent": ("百分比", "a percentage"),
    "date": ("日期", "a date"),
    "text": ("文本", "text"),
    "tick": ("✓ 或留空", "✓ or empty"),
}
TICKED = {"✓", "√", "✔", "☑", "x", "是", "有", "已", "y", "yes", "true", "ok", "1"}
UNTICKED = {"否", "无", "n", "no", "false", "0", "-", "×", "✗"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        t = value.strip().replace(",", "").replace(",", "").replace("¥", "").replace("￥", "").replace("$", "")
        if _NUMBER_TEXT.match(t):
            return float(t)
    return None


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


# Excel's 1900 date system: serial 1 is 1900-01-01, serial 60 is the 29 February 1900 that never
# existed (kept by Excel for Lotus 1-2-3), serial 2,958,465 is 9999-12-31, the last day Excel shows.
EXCEL_FIRST_DAY = dt.date(1900, 1, 1)
EXCEL_LAST_SERIAL = 2_958_465
MAX_WHOLE_NUMBER = 10**15  # whole-number columns without their own bound (row numbers, quantities)
# Columns whose dates lie in the future of a deal; further than the playbook's date_horizon_years
# from the day of the run they are probably mistyped.
HORIZON_COLUMNS = frozenset({"sign_date", "delivery_date"})
DEFAULT_HORIZON_YEARS = 5


def excel_serial_date(number: float) -> dt.date | None:
    """The day of an Excel serial number (1900 date system; the time of day is dropped), or None
    for a serial that is no day: before 1, after 9999-12-31, NaN or infinite, or 60 (1900-02-29)."""
    if not math.isfinite(number) or number < 1 or number >= EXCEL_LAST_SERIAL + 1 or 60 <= number < 61:
        return None
    day = int(number)
    return dt.date(1899, 12, 31 if day < 60 else 30) + dt.timedelta(days=day)


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def convert(col: Column, value: Any, choices: Choices, lang: str) -> tuple[Any, str | None, dict]:
    """(converted value, issue code or None, issue params) for one non-blank cell."""
    label = col.label(lang)
    shown = as_text(value)
    params: dict[str, Any] = {"column": label, "value": shown}
    kind = col.kind
    if _not_finite(value):  # NaN and infinities come from programs that write workbooks
        return None, "not-a-number", params
    if kind == "text":
        return shown, None, params
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            if value < EXCEL_FIRST_DAY:
                return None, "impossible-date", params
            return value, None, params
        if isinstance(value, int | float) and not isinstance(value, bool):
            # A number in a date column is an Excel serial, with or without a date format: files
            # written by other programs often have no styles at all.
            day = excel_serial_date(float(value))
            if day is None:
                return None, "impossible-date", params
            params["value"] = day.isoformat()
            return day, None, params
        if isinstance(value, str):
            return None, "text-date", params
        params["expected"] = _EXPECTED["date"][lang == "en"]
        return None, "wrong-type", params
    if kind in ("int", "number", "money", "percent"):
        number: float | None
        if kind == "percent" and isinstance(value, str) and value.strip().endswith("%"):
            n = _number(value.strip()[:-1])
            number = None if n is None else n / 100
        else:
            number = _number(value)
            if kind == "percent" and number is not None and 1 < number <= 100:
                number = number / 100
        if number is None or (kind == "int" and not float(number).is_integer()):
            params["expected"] = _EXPECTED[kind][lang == "en"]
            return None, "wrong-type", params
        if not math.isfinite(number):  # '1e999' typed as text
            return None, "not-a-number", params
        if kind == "money" and number < 0:
            return None, "negative-amount", params
        high = col.high if col.high is not None or kind != "int" else MAX_WHOLE_NUMBER
        if (col.low is not None and number < col.low) or (high is not None and number > high) or (
                kind == "int" and abs(number) > MAX_WHOLE_NUMBER):
            params.update(low=_num_text(col.low, kind), high=_num_text(high, kind))
            return None, "out-of-range", params
        return (int(number) if kind == "int" else number), None, params
    if kind == "tick":
        if isinstance(value, bool):
            return value, None, params
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value), None, params
        folded = shown.casefold()
        if folded in TICKED:
            return True, None, params
        if folded in UNTICKED:
            return False, None, params
        params["expected"] = _EXPECTED["tick"][lang == "en"]
        return None, "wrong-type", params
    if kind == "choice":
        key = choices.resolve(col.choices, shown)
        if key is None:
            params["allowed"] = choices.allowed(col.choices, lang)
            code = {"stage": "unknown-stage", "category": "unknown-category"}.get(col.choices, "unknown-choice")
            return None, code, params
        return key, None, params
    raise ValueError(f"unknown column kind {kind!r}")


def _num_text(value: float | None, kind: str) -> str:
    if value is None:
        return "∞"
    if kind == "percent":
        return f"{value:.0%}"
    return str(int(value)) if float(value).is_integer() else str(value)


def _amount_limit(choices: Choices, category: Any) -> float | None:
    """The playbook's limit for one amount (per category when it has one); None without a playbook."""
    limit = getattr(choices, "amount_limit", None)
    return limit(category if isinstance(category, str) else None) if callable(limit) else None


def _years_between(a: dt.date, b: dt.date) -> float:
    return abs((a - b).days) / 365.25


def validate_table(
    raw: RawTable,
    spec: Table,
    label: str,
    choices: Choices,
    lang: str,
    normalise: Callable[[str, Any], Any] | None = None,
    rejected: list[Record] | None = None,
    *,
    as_of: dt.date | None = None,
) -> tuple[list[Record], list[Issue]]:
    """Typed records for the rows without errors, and every issue found.

    Rows kept out for errors are appended to ``rejected`` (their valid cells converted, the
    others None), so a caller can still tell which deal a bad row was about.

    When ``choices`` is a playbook, amounts above its limit (``Playbook.amount_limit`` of the
    row's category) are refused, and signing and delivery dates further than its
    ``date_horizon_years`` from ``as_of`` (the day of the run, default today) are flagged.
    """
    as_of = as_of or dt.date.today()
    horizon = getattr(choices, "date_horizon_years", DEFAULT_HORIZON_YEARS)
    records: list[Record] = []
    issues: list[Issue] = []
    seen: dict[tuple, int] = {}
    for rr in raw.rows:
        values: dict[str, Any] = {}
        cells: dict[str, str] = {}
        row_issues: list[Issue] = []
        for col in spec.columns:
            c = rr.cols.get(col.key)
            if c is None:
                values[col.key] = None
                continue
            ref = cell_ref(rr.row, c)
            cells[col.key] = ref
            if col.key in rr.formulas and col.kind != "text":
                row_issues.append(Issue("formula-in-cell", label, raw.sheet, ref, {"column": col.label(lang)}))
                values[col.key] = None
                continue
            value = rr.values.get(col.key)
            if value is None or (isinstance(value, str) and not value.strip()):
                values[col.key] = None
                if col.required:
                    row_issues.append(Issue("missing-value", label, raw.sheet, ref, {"column": col.label(lang)}))
                continue
            converted, code, params = convert(col, value, choices, lang)
            if code:
                row_issues.append(Issue(code, label, raw.sheet, ref, params))
            values[col.key] = converted
        for col in spec.columns:
            value = values.get(col.key)
            if value is None or col.key not in cells:
                continue
            if col.kind == "money":
                limit = _amount_limit(choices, values.get("category"))
                if limit is not None and value > limit:
                    row_issues.append(Issue("amount-out-of-range", label, raw.sheet, cells[col.key], {
                        "column": col.label(lang), "value": as_text(value), "limit": f"{limit:,.0f}"}))
                    values[col.key] = None
            elif col.kind == "date" and col.key in HORIZON_COLUMNS and horizon and _years_between(
                    value, as_of) > horizon:
                row_issues.append(Issue("date-implausible", label, raw.sheet, cells[col.key], {
                    "column": col.label(lang), "value": value.isoformat(), "years": horizon}))
        if not any(i.severity == ERROR for i in row_issues) and spec.key_columns:
            key = tuple(
                normalise(k, values[k]) if normalise else values[k] for k in spec.key_columns
            )
            if key in seen:
                ref = cells.get(spec.key_columns[0], cell_ref(rr.row, 0))
                keys = (" + " if lang == "en" else "、").join(spec.column(k).label(lang) for k in spec.key_columns)
                row_issues.append(Issue(spec.duplicate_code, label, raw.sheet, ref, {
                    "first_row": seen[key], "keys": keys, "value": as_text(values[spec.key_columns[0]])}))
            else:
                seen[key] = rr.row + 1
        issues.extend(row_issues)
        if not any(i.severity == ERROR for i in row_issues):
            records.append(Record(row=rr.row + 1, values=values, cells=cells))
        elif rejected is not None:
            rejected.append(Record(row=rr.row + 1, values=values, cells=cells))
    return records, issues
