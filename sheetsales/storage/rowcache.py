"""The append-only tables' rows kept in a resident process, read again only where they grew.

A report reads whole tables of the store: every daily-log entry, every version of every file, every
snapshot of every deal. The store only ever appends, so a process that keeps running (``sheetsales
watch``) can keep what it read and ask the database for the rows recorded since: a save adds a few
hundred rows where the tables hold hundreds of thousands. At 500 reps that was about a tenth of the
watcher's report after a save, spent turning the same rows into dicts again.

Kept only when the process turns it on (:func:`keep`): a command that runs once reads each table
once anyway, and keeping its rows would only add to its peak memory.

Exact in the same way as the deal states kept by :mod:`sheetsales.method.dealstates`: each read asks
for the rows with a higher id than the last one kept and counts the table; when the count is not
what was kept plus what came (a row committed behind one already read, a store rebuilt at the same
path), the table is read again whole. Rows are handed out as copies, so a caller that changes one
changes nothing kept.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Table

    from .store import Store

KEPT_STORES = 2  # stores whose tables a process keeps (the newest used)


@dataclass
class _Kept:
    """One table's rows in (observed_on, id) order, with the highest id and the count read."""

    rows: list[dict] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)  # observed_on of each row, for bisecting
    last_id: int = 0
    count: int = 0
    reloads: int = 0


_lock = threading.Lock()
_on = False
_kept: dict[tuple, dict[str, _Kept]] = {}  # store identity -> table name -> its rows


def keep(on: bool = True) -> None:
    """Keep the tables' rows in this process from now on (``False``: stop and drop them)."""
    global _on
    with _lock:
        _on = on
        if not on:
            _kept.clear()


def keeping() -> bool:
    return _on


def forget() -> None:
    """Drop what is kept (the next read is a whole one)."""
    with _lock:
        _kept.clear()


def reloads(store: Store, table: Table) -> int:
    """How often ``table`` was read whole for ``store`` (for tests)."""
    kept = _kept.get(store.identity(), {}).get(table.name)
    return kept.reloads if kept else 0


def rows(store: Store, table: Table, as_of: dt.date) -> list[dict]:
    """Every row of the append-only ``table`` observed by ``as_of``, oldest first (``observed_on``, then
    id), as :meth:`Store.rows` reads them: copies of the kept rows, brought up to date first."""
    with _lock:
        kept = _current(store, table)
        end = bisect.bisect_right(kept.dates, as_of)
        return [dict(r) for r in kept.rows[:end]]


def _current(store: Store, table: Table) -> _Kept:
    ident = store.identity()
    tables = _kept.get(ident)
    if tables is None:
        while len(_kept) >= KEPT_STORES:
            _kept.pop(next(iter(_kept)))
        tables = _kept[ident] = {}
    kept = tables.get(table.name)
    if kept is not None:
        new, count = store.rows_since(table, kept.last_id)
        if count == kept.count + len(new):
            _add(kept, new)
            return kept
    kept = tables[table.name] = _Kept(reloads=(kept.reloads if kept else 0) + 1)
    new, count = store.rows_since(table, 0)
    _add(kept, new)
    if count != kept.count:  # rows committed while reading: the next read looks again
        kept.last_id, kept.count = 0, -1
    return kept


def _add(kept: _Kept, new: list[dict]) -> None:
    """``new`` (in id order) into ``kept``, which stays in (observed_on, id) order."""
    if not new:
        return
    kept.count += len(new)
    kept.last_id = max(kept.last_id, new[-1]["id"])
    if kept.dates and new[0]["observed_on"] < kept.dates[-1] or any(
            a["observed_on"] > b["observed_on"] for a, b in zip(new, new[1:], strict=False)):
        kept.rows = sorted(kept.rows + new, key=lambda r: (r["observed_on"], r["id"]))
        kept.dates = [r["observed_on"] for r in kept.rows]
        return
    kept.rows.extend(new)
    kept.dates.extend(r["observed_on"] for r in new)
