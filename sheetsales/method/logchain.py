"""The daily log that cannot be rewritten (工作日报, seed 003): acceptance, the hash chain, verification.

A log row, once ingested, is *accepted*: it is recorded once in ``log_entries`` and never changed or
deleted. A later save of the same weekly report is matched against what was accepted for that week:

1. a row whose values are exactly an accepted row's (wherever it now stands: sorting is harmless)
   is that row;
2. an accepted row left unmatched pairs with a new row at the same sheet row, else with one of the
   same date: the save *altered* it; with none, the save *dropped* it. Either way the original stays
   in force and ``log-rewritten`` is recorded with both versions (:data:`store.log_rewrites`, once
   per distinct altered version; the issue is repeated on every save that still differs);
3. the rows left are new work: they are accepted, appended to the person's chain.

Every accepted row carries ``seq`` (1, 2, … per person), the previous row's hash and its own:
SHA-256 over the row's values and the previous hash (:func:`entry_hash`). :func:`verify` walks every
chain and names the first broken link, so a row altered or deleted in the database itself is found.
What a chain cannot show is its own last rows removed together with nothing after them; the
summary's figures and the archived workbooks still hold them.

Pure functions decide; ``ingest`` writes what they return.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..issues import Issue
from ..reading.specs import Table, log_table
from ..storage.store import Store

GENESIS = "0" * 64
DROPPED = "—"  # what a dropped row reads as in ``log-rewritten``

# The values of a log row that make it what it is (its fingerprint and, with the chain fields, its hash).
ROW_FIELDS = ("date", "deal", "types", "hours", "cost", "content", "time", "unit", "person", "contact", "result",
              "remarks")
# What the hash covers besides the row's values: who, where in the chain, from which file version and when.
CHAIN_FIELDS = ("rep", "seq", "week", "row", "file_version_id", "observed_on")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fingerprint(values: Mapping[str, Any]) -> str:
    """The identity of a log row's content (same values, same fingerprint, wherever the row stands)."""
    return hashlib.sha1("\x1f".join(_text(values.get(k)) for k in ROW_FIELDS).encode("utf-8")).hexdigest()


def entry_hash(entry: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 of an accepted row's values, its place in the chain and the previous row's hash."""
    body = {k: _text(entry.get(k)) for k in (*CHAIN_FIELDS, *ROW_FIELDS)}
    body["prev_hash"] = prev_hash
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LogRow:
    """One row of a weekly report's log as read: its sheet row, values (``ROW_FIELDS``) and cell."""

    row: int
    values: Mapping[str, Any]
    cell: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.values)


@dataclass
class Settlement:
    """What one save of a weekly report does to the log: rows to accept and rewrites to record."""

    new: list[LogRow] = field(default_factory=list)
    altered: list[tuple[dict, LogRow]] = field(default_factory=list)  # (accepted entry, the other version)
    dropped: list[dict] = field(default_factory=list)  # accepted entries the save no longer holds


def settle(accepted: Sequence[dict], rows: Sequence[LogRow]) -> Settlement:
    """Match a save's log rows against the rows accepted for the same person and week (module docstring)."""
    out = Settlement()
    waiting: dict[str, list[dict]] = {}
    for entry in accepted:
        waiting.setdefault(entry["fingerprint"], []).append(entry)
    left_rows: list[LogRow] = []
    for r in rows:
        same = waiting.get(r.fingerprint)
        if same:
            same.pop(0)
        else:
            left_rows.append(r)
    left = sorted((e for es in waiting.values() for e in es), key=lambda e: e["seq"])
    for entry in left:
        match = next((r for r in left_rows if r.row == entry["row"]), None) or next(
            (r for r in left_rows if r.values.get("date") == entry["date"]), None)
        if match is None:
            out.dropped.append(entry)
        else:
            left_rows.remove(match)
            out.altered.append((entry, match))
    out.new = left_rows
    return out


def summary_text(values: Mapping[str, Any], limit: int = 60, names: Mapping[str, str] | None = None) -> str:
    """A log row in one short line, for messages: date, hours, cost, deal, what was done (the activity
    types by their ``names`` when given, else by code)."""
    parts = [_text(values.get("date"))]
    if values.get("hours") not in (None, ""):
        parts.append(f"{_text(values.get('hours'))} h")
    if values.get("cost") not in (None, "", 0, "0"):
        parts.append(f"¥{_text(values.get('cost'))}")
    types = [c for c in _text(values.get("types")).split(",") if c]
    parts += [_text(values.get("deal")), "+".join((names or {}).get(c, c) for c in types),
              _text(values.get("content"))]
    text = " · ".join(p for p in parts if p)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def rewritten_json(row: LogRow) -> str:
    """The values of an altered version, as kept in ``log_rewrites``."""
    return json.dumps({k: _text(row.values.get(k)) for k in ROW_FIELDS}, ensure_ascii=False)


def accept(store: Store, conn: Any, *, fv_id: int, as_of: dt.date, rep: str, week: str, rows: Sequence[LogRow],
           label: str, sheet: str, names: Mapping[str, str] | None = None) -> list[Issue]:
    """Record one save's log: new rows appended to ``rep``'s chain, rewrites kept as evidence.

    Returns the ``log-rewritten`` issues of this save (one per accepted row it alters or drops; the
    activity types ticked shown by their ``names``).
    """
    accepted = store.log_entries_of(conn, rep, week, as_of)
    plan = settle(accepted, rows)
    head = store.log_head(conn, rep)
    seq, prev = head if head else (0, GENESIS)
    new = []
    for r in sorted(plan.new, key=lambda r: r.row):
        seq += 1
        entry = {"file_version_id": fv_id, "observed_on": as_of, "rep": rep, "seq": seq, "week": week,
                 "row": r.row, "fingerprint": r.fingerprint, **{k: r.values.get(k) for k in ROW_FIELDS}}
        entry["hash"] = entry_hash(entry, prev)
        entry["prev_hash"] = prev
        new.append(entry)
        prev = entry["hash"]
    store.add_log_entries(conn, new)
    known = store.rewrite_versions(conn, (e["id"] for e, _ in plan.altered))
    known |= store.rewrite_versions(conn, (e["id"] for e in plan.dropped))
    rewrites, issues = [], []
    for entry, r in plan.altered:
        if (entry["id"], r.fingerprint) not in known:
            rewrites.append({"file_version_id": fv_id, "observed_on": as_of, "rep": rep, "entry_id": entry["id"],
                             "kind": "altered", "row": r.row, "fingerprint": r.fingerprint,
                             "rewritten": rewritten_json(r)})
        issues.append(Issue("log-rewritten", label, sheet, r.cell or f"A{r.row}", rep=rep, params={
            "row": entry["row"], "date": entry["date"], "original": summary_text(entry, names=names),
            "rewritten": summary_text(r.values, names=names)}))
    for entry in plan.dropped:
        if (entry["id"], "") not in known:
            rewrites.append({"file_version_id": fv_id, "observed_on": as_of, "rep": rep, "entry_id": entry["id"],
                             "kind": "dropped", "row": None, "fingerprint": "", "rewritten": None})
        issues.append(Issue("log-rewritten", label, sheet, f"A{entry['row']}", rep=rep, params={
            "row": entry["row"], "date": entry["date"], "original": summary_text(entry, names=names),
            "rewritten": DROPPED}))
    store.add_log_rewrites(conn, rewrites)
    return issues


# --------------------------------------------------------------------------------------------
# Verification: ``sheetsales verify``
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Break:
    """The first broken link of a chain."""

    rep: str
    seq: int  # the row found broken (its expected place when rows are missing)
    reason: str  # hash (the row's values changed) | link (the previous row changed or went) | gap | fork
    entry_id: int | None = None
    date: dt.date | None = None
    week: str = ""


@dataclass
class Verification:
    people: int = 0
    entries: int = 0
    broken: Break | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_rows(entries: Iterable[Mapping[str, Any]]) -> Verification:
    """Walk every person's chain (rows in person, seq order) and stop at the first broken link."""
    out = Verification()
    rep, prev, expected = None, GENESIS, 1
    for e in entries:
        if e["rep"] != rep:
            rep, prev, expected = e["rep"], GENESIS, 1
            out.people += 1
        out.entries += 1
        where = {"rep": e["rep"], "entry_id": e["id"], "date": e["date"], "week": e["week"]}
        if e["seq"] != expected:
            reason = "fork" if e["seq"] < expected else "gap"
            out.broken = Break(seq=expected if reason == "gap" else e["seq"], reason=reason, **where)
            return out
        if e["prev_hash"] != prev:
            out.broken = Break(seq=e["seq"], reason="link", **where)
            return out
        if entry_hash(e, e["prev_hash"]) != e["hash"]:
            out.broken = Break(seq=e["seq"], reason="hash", **where)
            return out
        prev, expected = e["hash"], expected + 1
    return out


def verify(store: Store, as_of: dt.date) -> Verification:
    """Every chain of the store as of ``as_of``."""
    return verify_rows(store.log_chains(as_of))


# --------------------------------------------------------------------------------------------
# Reading: the weekly report's log as the chain sees it
# --------------------------------------------------------------------------------------------
def playbook_log_table(playbook: Any) -> Table:
    """The daily log of the weekly report (version 2) for ``playbook``'s activity types."""
    return log_table(tuple((a.code, a.name_zh, a.name_en) for a in playbook.activity_types))


def log_row(record: Any) -> LogRow:
    """A validated log row (either version of the weekly report) as :data:`ROW_FIELDS` values."""
    v = record.values
    types = ",".join(k[2:] for k, ticked in v.items() if k.startswith("t_") and ticked)
    deal = v.get("deal")
    values = {k: v.get(k) for k in ROW_FIELDS}
    values.update(deal=str(deal).strip() if deal else None, types=types or None)
    return LogRow(record.row, values, record.cells.get("date", ""))


def own_deals(store: Store, as_of: dt.date) -> dict[str, list[str]]:
    """rep → the customers of the open deals on their latest MPC list by ``as_of``: the drop-down of
    the weekly report handed out then (largest deals first)."""
    versions = store.latest_mpc_versions(as_of)
    out: dict[str, list[str]] = {}
    rows = sorted(store.opportunities_of(v["id"] for v in versions.values()), key=lambda r: -(r["amount"] or 0))
    for r in rows:
        if r["status"] == "open" and r["customer"] not in out.setdefault(r["rep"], []):
            out[r["rep"]].append(r["customer"])
    return out
