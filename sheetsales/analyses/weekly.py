"""What the weekly report says (工作周报): key events, market news and expenses against budget.

* ``notes``: each rep's 本周大事 key events and 本周市场动态 market news of the last four ISO weeks
  (the latest version of each weekly report), for the weekly review.
* ``expenses``: spend by type (travel, entertainment, other, and their total) per rep and team and
  month of this year, against the playbook's Budgets (year and quarter budgets spread evenly over
  their months; a team without its own budget has the sum of its members'). ``over-budget`` when the
  spend of this month or the last passes its budget.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..i18n import t
from ..method import rules
from ..method.playbook import period_months
from ..reading.templates import iso_week, week_bounds
from ..storage.store import expenses, weekly_notes
from .sections import PersonTable

if TYPE_CHECKING:
    from ..method.playbook import Playbook
    from .analyse import Summary
    from .sections import Book, Inputs

KEY = "weekly"
TYPES = ("travel", "entertainment", "other", "total")
NOTE_WEEKS = 4
FEEDBACK = (PersonTable("notes", "rep", scope=True), PersonTable("expenses", "person", scope=True))


def monthly_budgets(playbook: Playbook) -> dict[tuple[str, str, str], float]:
    """(owner, 'YYYY-MM', type) → budget; the total is the sum of the types given."""
    out: dict[tuple[str, str, str], float] = defaultdict(float)
    for b in playbook.budgets:
        months = period_months(b.period) or []
        for kind in TYPES[:-1]:
            amount = getattr(b, kind)
            if amount is None:
                continue
            for m in months:
                out[(b.owner, m, kind)] += amount / len(months)
                out[(b.owner, m, "total")] += amount / len(months)
    return dict(out)


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    people, as_of = inputs.people, inputs.as_of
    # --- key events and market news ----------------------------------------------------------------
    first_week = week_bounds(iso_week(as_of - dt.timedelta(weeks=NOTE_WEEKS - 1)))[0]
    notes = []
    for r in inputs.store.weekly_rows(weekly_notes, as_of):
        try:
            monday = week_bounds(r["week"])[0]
        except ValueError:
            continue
        if monday < first_week or not (r["key_events"] or r["market_news"]):
            continue
        p = people.get(r["rep"], {})
        notes.append({"week": r["week"], "rep": r["rep"], "rep_name": p.get("rep_name", r["rep"]),
                      "team": p.get("team", ""), "key_events": r["key_events"] or "",
                      "market_news": r["market_news"] or ""})
    notes.sort(key=lambda n: (n["week"], n["rep"]), reverse=True)
    # --- expenses against budgets ------------------------------------------------------------------
    spent: dict[tuple[str, str, str, str], float] = defaultdict(float)  # (level, group, month, type)
    year = f"{as_of.year}-"
    for r in inputs.store.weekly_rows(expenses, as_of):
        if not r["date"] or r["date"] > as_of or not r["date"].strftime("%Y-%m").startswith(year):
            continue
        month = r["date"].strftime("%Y-%m")
        team = people.get(r["rep"], {}).get("team", "")
        for kind in TYPES[:-1]:
            value = float(r[kind] or 0)
            for level, group in (("rep", r["rep"]), ("team", team)):
                spent[(level, group, month, kind)] += value
                spent[(level, group, month, "total")] += value
    budgets = monthly_budgets(inputs.playbook)
    reps = {p.id: p for p in inputs.playbook.reps}
    heads = {}
    for p in inputs.playbook.team:
        if p.id in reps and p.supervisor:
            heads.setdefault(p.team, p.supervisor)

    def budget(level: str, group: str, month: str, kind: str) -> float | None:
        if (group, month, kind) in budgets:
            return budgets[(group, month, kind)]
        if level == "team":
            found = [budgets[(pid, month, kind)] for pid, p in reps.items()
                     if p.team == group and (pid, month, kind) in budgets]
            return sum(found) if found else None
        return None

    keys = {(lvl, g, m) for lvl, g, m, _ in spent} | {
        ("rep" if o in reps else "team", o, m) for o, m, _ in budgets if m.startswith(year) and m <= as_of.strftime("%Y-%m")}
    rows = []
    for level, group, month in sorted(keys, key=lambda k: (k[0] != "team", k[1], k[2])):
        for kind in TYPES:
            value = round(spent.get((level, group, month, kind), 0.0), 2)
            b = budget(level, group, month, kind)
            b = round(b, 2) if b is not None else None
            if not value and b is None:
                continue
            rows.append({"level": level, "group": group,
                         "name": people.get(group, {}).get("rep_name", "") if level == "rep" else "",
                         "person": group if level == "rep" else heads.get(group, ""), "month": month, "type": kind,
                         "spent": value, "budget": b, "share": round(value / b, 4) if b else None,
                         "over": b is not None and value > b})
    return {"notes": notes, "expenses": rows}


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    this = inputs.as_of.strftime("%Y-%m")
    last = (inputs.as_of.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    out = []
    for r in tables["expenses"]:
        if not r["over"] or r["month"] not in (this, last):
            continue
        who = r["person"]
        people = rules._people(who, inputs.ctx.supervisor(who)) if who else ()
        label = r["group"] if r["level"] == "team" else f"{r['group']} {r['name']}".strip()
        out.append(rules.Alert("over-budget", "", people, {
            "who": label, "month": r["month"], "type": t(f"weekly.type.{r['type']}", inputs.lang),
            "spent": float(r["spent"]), "budget": float(r["budget"]), "share": f"{r['share']:.0%}"}, rep=who))
    return out


# --------------------------------------------------------------------------------------------
# The Weekly content sheet
# --------------------------------------------------------------------------------------------
def _cols() -> dict[str, tuple]:
    from ..outputs.write import Col

    notes = (Col("week", "weekly.col.week", width=10), Col("rep", "col.rep", width=7),
             Col("rep_name", "col.rep_name", width=10), Col("key_events", "weekly.col.key_events", "wrap", 60),
             Col("market_news", "weekly.col.market_news", "wrap", 60))
    spend = (Col("group_label", "col.group", width=16), Col("month", "col.month", width=10),
             Col("type_label", "weekly.col.type", width=10), Col("spent", "weekly.col.spent", "money", 14, "sum"),
             Col("budget", "weekly.col.budget", "money", 14, "sum"), Col("share", "weekly.col.share", "percent", 10),
             Col("over_label", "weekly.col.over", width=8))
    return {"notes": notes, "spend": spend}


def _labelled(rows: list[dict], lang: str) -> list[dict]:
    return [{**r, "group_label": f"{r['group']} {r['name']}".strip(), "type_label": t(f"weekly.type.{r['type']}", lang),
             "over_label": t("weekly.over", lang) if r["over"] else ""} for r in rows]


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None:
    lang = book.lang
    cols = _cols()
    w = book.sheet(t("sheet.weekly", lang))
    w.title(t("title.weekly", lang), book.subtitle)
    w.heading(t("weekly.title.notes", lang))
    first, _ = w.table("WeeklyNotes", cols["notes"], tables.get("notes", []))
    wrap_columns(w, cols["notes"], first, tables.get("notes", []))
    rows = tables.get("expenses", [])
    # The totals of a table add its rows: one table per level and type, so no row is counted twice.
    w.heading(t("weekly.title.expenses_team", lang))
    w.table("ExpensesByTeam", cols["spend"], _labelled([r for r in rows if r["level"] == "team" and r["type"] == "total"],
                                                        lang))
    w.heading(t("weekly.title.expenses_rep", lang))
    w.table("ExpensesByRep", cols["spend"], _labelled([r for r in rows if r["level"] == "rep" and r["type"] == "total"],
                                                       lang))
    w.heading(t("weekly.title.expenses_types", lang))
    w.table("ExpensesByType", cols["spend"], _labelled([r for r in rows if r["level"] == "rep" and r["type"] != "total"],
                                                        lang))
    w.finish()


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    notes, rows = tables.get("notes", []), tables.get("expenses", [])
    if not notes and not rows:
        return
    cols = _cols()
    w = book.sheet(t("sheet.weekly", book.lang))
    w.title(t("title.weekly", book.lang), book.subtitle)
    first, _ = w.table("MyWeeklyNotes", cols["notes"], notes)
    wrap_columns(w, cols["notes"], first, notes)
    w.heading(t("weekly.title.expenses_rep", book.lang))
    w.table("MyExpenses", cols["spend"], _labelled(rows, book.lang), total=False)
    w.finish()


def latest_notes(summary: Summary) -> list[dict]:
    """Each rep's key events and market news from their latest weekly report with any (the weekly MPC
    review shows them under the deals' changes), in the order of the reps' ids."""
    seen: set[str] = set()
    latest = []
    for note in summary.sections.get(KEY, {}).get("notes", []):  # newest week first
        if note["rep"] not in seen:
            seen.add(note["rep"])
            latest.append(note)
    return sorted(latest, key=lambda n: n["rep"])


def draw_review_notes(w: Any, notes: list[dict]) -> None:
    """The MPC review's second table: each rep's latest key events and market news."""
    w.heading(t("weekly.title.review_notes", w.lang))
    cols = _cols()["notes"]
    first, _ = w.table("MPCReviewNotes", cols, notes)
    wrap_columns(w, cols, first, notes)


def wrap_columns(w: Any, cols: tuple, first: int, records: list[dict]) -> None:
    """Long text (columns of kind ``wrap``) wrapping in its cell and top-aligned: the row grows
    instead of the text running over the next columns. Reps' text stays text: a value that is not
    text (a number typed in a notes column) is written again as its text.

    The table wrote text already as this (``SheetWriter.cells``: the ``wrap`` format has the same
    font, alignment and wrapping, so XlsxWriter stores one format for both); writing it a second
    time cost the qualification sheets a third of their time (nine such columns per deal)."""
    fmt = w.wb.add_format({"font_name": "Microsoft YaHei", "font_size": 10, "text_wrap": True, "valign": "top"})
    for i, c in enumerate(cols):
        if c.kind != "wrap":
            continue
        for r, record in enumerate(records):
            value = record.get(c.key)
            if value and type(value) is not str:
                w.ws.write_string(first + r, i, str(value), fmt)
