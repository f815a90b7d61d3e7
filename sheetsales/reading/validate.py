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
from .read import RawTable, cell_ref, col_letter
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
    """(converted value, issue code or None, issue params) for one non-blank cell; the params are
    built only for an issue (they are empty when the cell is fine)."""
    kind = col.kind
    if _not_finite(value):  # NaN and infinities come from programs that write workbooks
        return None, "not-a-number", _params(col, value, lang)
    if kind == "text":
        return as_text(value), None, {}
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            if value < EXCEL_FIRST_DAY:
                return None, "impossible-date", _params(col, value, lang)
            return value, None, {}
        if isinstance(value, int | float) and not isinstance(value, bool):
            # A number in a date column is an Excel serial, with or without a date format: files
            # written by other programs often have no styles at all.
            day = excel_serial_date(float(value))
            if day is None:
                return None, "impossible-date", _params(col, value, lang)
            return day, None, {}
        if isinstance(value, str):
            return None, "text-date", _params(col, value, lang)
        return None, "wrong-type", _params(col, value, lang, expected=_EXPECTED["date"][lang == "en"])
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
            return None, "wrong-type", _params(col, value, lang, expected=_EXPECTED[kind][lang == "en"])
        if not math.isfinite(number):  # '1e999' typed as text
            return None, "not-a-number", _params(col, value, lang)
        if kind == "money" and number < 0:
            return None, "negative-amount", _params(col, value, lang)
        high = col.high if col.high is not None or kind != "int" else MAX_WHOLE_NUMBER
        if (col.low is not None and number < col.low) or (high is not None and number > high) or (
                kind == "int" and abs(number) > MAX_WHOLE_NUMBER):
            return None, "out-of-range", _params(col, value, lang, low=_num_text(col.low, kind),
                                                  high=_num_text(high, kind))
        return (int(number) if kind == "int" else number), None, {}
    if kind == "tick":
        if isinstance(value, bool):
            return value, None, {}
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value), None, {}
        folded = as_text(value).casefold()
        if folded in TICKED:
            return True, None, {}
        if folded in UNTICKED:
            return False, None, {}
        return None, "wrong-type", _params(col, value, lang, expected=_EXPECTED["tick"][lang == "en"])
    if kind == "choice":
        key = choices.resolve(col.choices, as_text(value))
        if key is None:
            code = {"stage": "unknown-stage", "category": "unknown-category"}.get(col.choices, "unknown-choice")
            return None, code, _params(col, value, lang, allowed=choices.allowed(col.choices, lang))
        return key, None, {}
    raise ValueError(f"unknown column kind {kind!r}")


def _params(col: Column, value: Any, lang: str, **extra: Any) -> dict[str, Any]:
    """An issue's params: the column's label and the value as the person sees it."""
    return {"column": col.label(lang), "value": as_text(value), **extra}


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


_UNSEEN = object()


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
    sheet = raw.sheet
    # What every row repeats, worked out once: each column's plan, its letters, the choices and
    # amount limits already resolved (the same text always resolves the same way in one table).
    plan = [(col.key, col.kind, col, col.required) for col in spec.columns]
    checks = [col for col in spec.columns if col.kind == "money" or (col.kind == "date" and col.key in HORIZON_COLUMNS)]
    letters: dict[int, str] = {}
    resolved: dict[tuple[str, str | None, str], Any] = {}
    limits: dict[Any, float | None] = {}
    for rr in raw.rows:
        values: dict[str, Any] = {}
        cells: dict[str, str] = {}
        row_issues: list[Issue] = []
        number = str(rr.row + 1)
        where = rr.cols
        row_values = rr.values
        formulas = rr.formulas
        for key, kind, col, required in plan:
            c = where.get(key)
            if c is None:
                values[key] = None
                continue
            column = letters.get(c)
            if column is None:
                column = letters[c] = col_letter(c)
            ref = cells[key] = column + number
            if formulas and key in formulas and kind != "text":
                row_issues.append(Issue("formula-in-cell", label, sheet, ref, {"column": col.label(lang)}))
                values[key] = None
                continue
            value = row_values.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                values[key] = None
                if required:
                    row_issues.append(Issue("missing-value", label, sheet, ref, {"column": col.label(lang)}))
                continue
            if value.__class__ is str and kind == "text":
                values[key] = value.strip()
                continue
            if value.__class__ is str and (kind == "choice" or kind == "tick"):
                found = resolved.get((kind, col.choices, value), _UNSEEN)
                if found is not _UNSEEN:
                    values[key] = found
                    continue
                converted, code, params = convert(col, value, choices, lang)
                if code is None:
                    resolved[(kind, col.choices, value)] = converted
            else:
                converted, code, params = convert(col, value, choices, lang)
            if code:
                row_issues.append(Issue(code, label, sheet, ref, params))
            values[key] = converted
        for col in checks:
            value = values.get(col.key)
            if value is None or col.key not in cells:
                continue
            if col.kind == "money":
                category = values.get("category")
                if category in limits:
                    limit = limits[category]
                else:
                    limit = limits[category] = _amount_limit(choices, category)
                if limit is not None and value > limit:
                    row_issues.append(Issue("amount-out-of-range", label, sheet, cells[col.key], {
                        "column": col.label(lang), "value": as_text(value), "limit": f"{limit:,.0f}"}))
                    values[col.key] = None
            elif horizon and _years_between(value, as_of) > horizon:
                row_issues.append(Issue("date-implausible", label, sheet, cells[col.key], {
                    "column": col.label(lang), "value": value.isoformat(), "years": horizon}))
        failed = bool(row_issues) and any(i.severity == ERROR for i in row_issues)
        if not failed and spec.key_columns:
            key = tuple(
                normalise(k, values[k]) if normalise else values[k] for k in spec.key_columns
            )
            if key in seen:
                ref = cells.get(spec.key_columns[0], cell_ref(rr.row, 0))
                keys = (" + " if lang == "en" else "、").join(spec.column(k).label(lang) for k in spec.key_columns)
                row_issues.append(Issue(spec.duplicate_code, label, sheet, ref, {
                    "first_row": seen[key], "keys": keys, "value": as_text(values[spec.key_columns[0]])}))
            else:
                seen[key] = rr.row + 1
        issues.extend(row_issues)
        if not any(i.severity == ERROR for i in row_issues):
            records.append(Record(row=rr.row + 1, values=values, cells=cells))
        elif rejected is not None:
            rejected.append(Record(row=rr.row + 1, values=values, cells=cells))
    return records, issues
