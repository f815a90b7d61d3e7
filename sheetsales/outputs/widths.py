"""Column widths from what a column shows: its label and its values, in the workbook's language.

Excel measures a column in characters of the default font's digit; a CJK character is about two
of them. :func:`display_width` counts East Asian wide and full-width characters double (the
Unicode East Asian Width property, as terminals do), so a Chinese header gets the room it needs
and an English one is not drawn in the Chinese widths.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import unicodedata
from collections.abc import Iterable
from typing import Any

# Room for the filter button a table header carries, and the cell's own padding.
FILTER_BUTTON = 2.5
PADDING = 1.5
SAMPLE = 2000  # values looked at per column: enough to be representative, bounded for large tables


@functools.lru_cache(maxsize=65536)
def display_width(text: str) -> int:
    """Width of ``text`` in digit widths: wide and full-width characters count 2 (the longest line).
    Cached: a column's values repeat (names, stages, categories) and every table is measured."""
    text = str(text)
    if text.isascii():  # numbers, dates, codes, English: one digit width per character
        return max(len(line) for line in text.split("\n"))
    best = 0
    for line in text.split("\n"):
        best = max(best, sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line))
    return best


def shown(value: Any, kind: str) -> str:
    """``value`` as the cell's number format shows it (near enough to measure it)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE"
    if isinstance(value, dt.date):
        return "2026-12-31"
    if isinstance(value, int | float):
        try:
            if kind == "money":
                return f"{value:,.0f}"
            if kind == "percent":
                return f"{value:.0%}"
            if kind == "int":
                return f"{value:.0f}"
            return f"{value:,.2f}" if isinstance(value, float) else str(value)
        except (ValueError, OverflowError):
            return repr(value)
    return str(value)


def header_width(label: str) -> float:
    """The width at which ``label`` fits on one line beside the filter button."""
    return display_width(label) + FILTER_BUTTON + PADDING


def column_width(label: str, values: Iterable[Any], kind: str = "text", cap: float = 60,
                 floor: float = 6) -> float:
    """A column's width: the header always fits; the values up to ``cap`` (longer text wraps).

    Each distinct value is measured once (a column repeats its names, stages and amounts): text is
    its own :func:`shown` form; a number is formatted first. Blanks measure nothing. Two equal
    numbers show alike, but for ``0.0`` and ``-0.0`` ("-0"), which are measured each time.
    """
    widest = 0
    seen: set[Any] = set()
    for value in itertools.islice(values, SAMPLE):
        what = type(value)
        if what is str:
            if value in seen:
                continue
            seen.add(value)
            width = display_width(value)
        elif value is None:
            continue
        elif (what is int or what is float) and value:
            if (what, value) in seen:
                continue
            seen.add((what, value))
            width = display_width(shown(value, kind))
        else:
            width = display_width(shown(value, kind))
        if width > widest:
            widest = width
    content = min(widest + PADDING, cap)
    return round(max(header_width(label), content, floor), 1)


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` wide."""
    room = max(width - PADDING, 1)
    return sum(max(1, -(-display_width(line) // int(room))) for line in str(text).split("\n"))
