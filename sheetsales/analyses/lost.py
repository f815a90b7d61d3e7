"""Lost deals (丢单): the lost-deal report, what it says, and the win rate.

* :func:`read_lost` / :func:`store_lost` read a rep's lost-deal report (``specs.LOST_TABLE``, one
  row per lost deal) and record its rows; the ingest calls them like its other readers.
* :func:`analyse` (a section, see ``sections.py``) joins the reports to the deals the MPC lists
  marked lost: ``lost_deals`` (every lost deal with its report), ``lost_analysis`` (count, amount
  and our price against the winner's by reason, winning competitor, stage reached, rep, team,
  region and category) and ``win_rates`` (won ÷ (won + lost) by level and category, year to date).
  A report that names a deal that is not lost, or no deal of the rep, is a data issue.
* :func:`alerts`: ``lost-without-report`` once a deal has been lost for more than the playbook's
  ``lost_report_days`` without a report.
* :func:`summary_sheets`: the Lost deals sheet (tables and a chart of the reasons).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..i18n import t
from ..issues import Issue
from ..method import rules
from ..reading.names import normalise_customer, opportunity_key
from ..reading.read import read_table
from ..reading.specs import LOST_TABLE
from ..reading.validate import validate_table
from ..storage.store import lost_reports
from .sections import PersonTable

if TYPE_CHECKING:
    from ..method.playbook import Playbook
    from ..reading.read import RawWorkbook
    from ..storage.ingest import Parsed
    from ..storage.store import Store
    from .analyse import Summary
    from .sections import Book, Inputs

KEY = "lost"
DIMENSIONS = ("reason", "winner", "stage", "rep", "team", "region", "category")
WIN_LEVELS = ("company", "region", "team", "rep", "category")
FEEDBACK = (PersonTable("lost_deals", "rep", scope=True),)


# --------------------------------------------------------------------------------------------
# Reading and recording the lost-deal report
# --------------------------------------------------------------------------------------------
def _key_normaliser(key: str, value: Any) -> Any:
    if key == "customer":
        return normalise_customer(str(value or ""))
    return value.strip().casefold() if isinstance(value, str) else value


def read_lost(raw: RawWorkbook, playbook: Playbook, lang: str, parsed: Parsed, as_of: dt.date | None = None) -> None:
    """The rows of a lost-deal report, validated (reason from the playbook's list, prices, dates)."""
    rt, found = read_table(raw, LOST_TABLE)
    parsed.issues += found
    if rt is None:
        return
    parsed.sheets["lost"] = rt.sheet
    records, found = validate_table(rt, LOST_TABLE, raw.label, playbook, lang, normalise=_key_normaliser, as_of=as_of)
    parsed.issues += found
    for r in records:
        r.values["customer"] = str(r.values["customer"]).strip()
    parsed.tables["lost"] = records


def store_lost(conn: Any, store: Store, fv_id: int, as_of: dt.date, parsed: Parsed) -> None:
    store.add_rows(conn, lost_reports, [
        {"file_version_id": fv_id, "observed_on": as_of, "rep": parsed.rep, "file": parsed.label,
         "sheet": parsed.sheets["lost"], "row": r.row,
         "opp_key": opportunity_key(parsed.rep, r.values["customer"], r.values["category"]),
         **{c.key: r.values[c.key] for c in LOST_TABLE.columns}}
        for r in parsed.tables.get("lost", [])
    ])


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------
def _closed_on(state: rules.DealState, status: str) -> dt.date | None:
    """The day sheetsales first saw the deal with ``status`` in its latest run of that status."""
    day = None
    for r in state.history:
        if r["status"] == status:
            day = day or r["observed_on"]
        else:
            day = None
    return day


def _furthest_stage(state: rules.DealState) -> int:
    return max(rules.evidenced_stage(int(r["stage"]), {int(m) for m in (r.get("milestones") or "").split(",") if m})
               for r in state.history)


def price_gap(ours: float | None, winner: float | None) -> float | None:
    """(our price − the winner's) ÷ the winner's: 0.1 means we asked 10 % more."""
    if ours is None or not winner:
        return None
    return (ours - winner) / winner


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    lang, people, ctx = inputs.lang, inputs.people, inputs.ctx
    alias = {k: s.key for s in ctx.deals.values() for k in s.members}
    reports: dict[str, dict] = {}
    report_issues: list[dict] = []
    for r in inputs.store.latest_rows(lost_reports, "lost", inputs.as_of):
        deal = alias.get(r["opp_key"])
        state = ctx.deals.get(deal) if deal else None
        if state is None or state.status != "lost":
            code = "lost-report-unknown-deal" if state is None else "lost-report-not-lost"
            status = t(f"lost.status.{state.status}", lang) if state is not None else ""
            issue = Issue(code, r["file"], r["sheet"], f"A{r['row']}",
                          {"customer": r["customer"], "category": r["category"], "status": status}, r["rep"])
            report_issues.append({**issue.as_record(lang), "rep_name": people.get(r["rep"], {}).get("rep_name", ""),
                                  "observed_on": r["observed_on"]})
            continue
        reports.setdefault(deal, r)  # one report per deal: the first row that names it
    inputs.summary.issues += report_issues  # data issues of the reports, beside the ingest's

    due_days = int(inputs.playbook.settings.get("lost_report_days", 7) or 0)
    lost = []
    for s in ctx.deals.values():
        if s.status != "lost":
            continue
        person = people.get(s.owner, {"rep_name": s.owner, "team": "", "region": ""})
        lost_on = _closed_on(s, "lost") or s.first_seen
        stage = _furthest_stage(s)
        rep = reports.get(s.key)
        days = (inputs.as_of - lost_on).days
        report = "reported" if rep else ("overdue" if days > due_days else "due")
        record = {
            "deal": s.key, "rep": s.owner, "rep_name": person["rep_name"], "team": person["team"],
            "region": person["region"], "customer": s.customer, "category": s.category, "amount": s.amount,
            "stage_order": stage, "stage": ctx.stage_name(stage, lang), "lost_on": lost_on, "days": days,
            "report": report, "report_label": t(f"lost.report.{report}", lang), "small": s.small,
            "reason": rep["reason"] if rep else None, "winner": (rep["winner"] or None) if rep else None,
            "winner_price": rep["winner_price"] if rep else None, "our_price": rep["our_price"] if rep else None,
            "price_gap": None, "report_date": rep["report_date"] if rep else None,
        }
        if rep:
            gap = price_gap(rep["our_price"], rep["winner_price"])
            record["price_gap"] = round(gap, 4) if gap is not None else None
            for key in ("customer_region", "agent", "previous_equipment", "purchase_method", "purchase_date",
                        "winner_model", "winner_config", "winner_terms", "our_model", "our_config", "our_terms",
                        "others", "analysis", "remarks"):
                record[key] = rep[key]
            record["report_file"] = rep["file"]
        lost.append(record)
    lost.sort(key=lambda r: (r["lost_on"], r["rep"], r["customer"]), reverse=False)
    return {"lost_deals": lost, "lost_analysis": _lost_analysis(lost, lang),
            "win_rates": _win_rates(inputs)}


def _lost_analysis(lost: list[dict], lang: str) -> list[dict]:
    """Count, amount, share of the amount and average price gap of the lost deals, by each dimension."""
    total = sum(r["amount"] for r in lost)
    out = []
    none = t("lost.no_report", lang)
    for dim in DIMENSIONS:
        groups: dict[Any, list[dict]] = defaultdict(list)
        for r in lost:
            if dim == "stage":
                key: Any = (r["stage_order"], r["stage"])
            elif dim in ("reason", "winner"):
                key = r[dim] or (none if r["report"] != "reported" or dim == "reason" else t("lost.no_winner", lang))
            else:
                key = r[dim]
            groups[key].append(r)
        rows = []
        for key, members in groups.items():
            amount = sum(m["amount"] for m in members)
            gaps = [m["price_gap"] for m in members if m["price_gap"] is not None]
            rows.append({"dimension": dim, "dimension_label": t(f"lost.by.{dim}", lang),
                         "group": key[1] if dim == "stage" else key, "stage_order": key[0] if dim == "stage" else None,
                         "count": len(members), "amount": amount,
                         "share": round(amount / total, 4) if total else None,
                         "price_gap": _mean(gaps), "priced": len(gaps)})
        rows.sort(key=lambda r: (r["stage_order"],) if dim == "stage" else (-r["amount"], str(r["group"])))
        out += rows
    return out


def _win_rates(inputs: Inputs) -> list[dict]:
    """Won ÷ (won + lost) of the deals closed this year up to ``as_of``, by level and by category."""
    start = dt.date(inputs.as_of.year, 1, 1)
    people = inputs.people
    counts: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: {"won": 0, "lost": 0, "won_amount": 0.0,
                                                                           "lost_amount": 0.0})
    for s in inputs.ctx.deals.values():
        if s.status not in ("won", "lost"):
            continue
        day = _closed_on(s, s.status)
        if day is None or not start <= day <= inputs.as_of:
            continue
        person = people.get(s.owner, {"team": "", "region": ""})
        for level, group in (("company", "*"), ("region", person["region"]), ("team", person["team"]),
                             ("rep", s.owner), ("category", s.category)):
            c = counts[(level, group)]
            c[s.status] += 1
            c[f"{s.status}_amount"] += s.amount
    order = {lvl: i for i, lvl in enumerate(WIN_LEVELS)}
    out = []
    for (level, group), c in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        closed = c["won"] + c["lost"]
        out.append({"level": level, "group": group,
                    "rep_name": people.get(group, {}).get("rep_name", "") if level == "rep" else "",
                    "won": int(c["won"]), "lost": int(c["lost"]),
                    "win_rate": round(c["won"] / closed, 4) if closed else None,
                    "won_amount": c["won_amount"], "lost_amount": c["lost_amount"],
                    "since": start})
    return out


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    out = []
    ctx = inputs.ctx
    due = int(inputs.playbook.settings.get("lost_report_days", 7) or 0)
    for r in tables["lost_deals"]:
        if r["report"] != "overdue" or r["small"]:
            continue
        out.append(rules.Alert("lost-without-report", r["deal"], rules._people(r["rep"], ctx.supervisor(r["rep"])),
                               {"customer": r["customer"], "deal": r["deal"], "date": r["lost_on"], "days": r["days"],
                                "limit": due}, rep=r["rep"], customer=r["customer"]))
    return out


# --------------------------------------------------------------------------------------------
# The Lost deals sheet, and each person's lost deals in their feedback
# --------------------------------------------------------------------------------------------
def _cols() -> dict[str, tuple]:
    from ..outputs.write import Col

    group = (Col("group", "col.group", width=22), Col("count", "col.count", "int", 9, "sum"),
             Col("amount", "col.amount", "money", 16, "sum"), Col("share", "lost.col.share", "percent", 10),
             Col("price_gap", "lost.col.price_gap", "percent", 12), Col("priced", "lost.col.priced", "int", 10, "sum"))
    win = (Col("group", "col.group", width=22), Col("won", "lost.col.won", "int", 9, "sum"), Col("lost", "lost.col.lost", "int", 9, "sum"),
           Col("win_rate", "lost.col.win_rate", "percent", 10), Col("won_amount", "lost.col.won_amount", "money", 16, "sum"),
           Col("lost_amount", "lost.col.lost_amount", "money", 16, "sum"))
    deals = (Col("deal", "col.deal", width=14), Col("rep", "col.rep", width=7), Col("rep_name", "col.rep_name", width=10),
             Col("customer", "col.customer", width=26), Col("category", "col.category", width=12),
             Col("amount", "col.amount", "money", 14, "sum"), Col("stage", "lost.col.stage_reached", width=12),
             Col("lost_on", "lost.col.lost_on", "date", 11), Col("report_label", "lost.col.report", width=10),
             Col("reason", "lost.col.reason", width=14), Col("winner", "lost.col.winner", width=14),
             Col("winner_price", "lost.col.winner_price", "money", 14), Col("our_price", "lost.col.our_price", "money", 14),
             Col("price_gap", "lost.col.price_gap", "percent", 10), Col("analysis", "lost.col.analysis", width=40))
    return {"group": group, "win": win, "deals": deals}


TABLE_NAMES = {"reason": "LostByReason", "winner": "LostByWinner", "stage": "LostByStage", "rep": "LostByRep",
               "team": "LostByTeam", "region": "LostByRegion", "category": "LostByCategory"}
WIN_NAMES = {"company": "WinRate", "region": "WinRateByRegion", "team": "WinRateByTeam", "rep": "WinRateByRep",
             "category": "WinRateByCategory"}


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None:
    lang = book.lang
    cols = _cols()
    w = book.sheet(t("sheet.lost", lang))
    w.title(t("title.lost", lang), book.subtitle)
    analysis = tables.get("lost_analysis", [])
    w.heading(t("lost.by.reason", lang))
    reasons = [r for r in analysis if r["dimension"] == "reason"]
    first, last = w.table(TABLE_NAMES["reason"], cols["group"], reasons)
    if reasons:
        _reason_chart(book, w, first, last, lang)
        w.row = max(w.row, first + 18)
    win = tables.get("win_rates", [])
    for level in WIN_LEVELS:
        w.heading(f"{t('lost.title.win_rate', lang)} · {t('lost.level.' + level, lang)}")
        records = [{**r, "group": t("level.company", lang) if level == "company" else
                    f"{r['group']} {r['rep_name']}".strip()} for r in win if r["level"] == level]
        w.table(WIN_NAMES[level], cols["win"], records)
    for dim in DIMENSIONS[1:]:
        w.heading(t(f"lost.by.{dim}", lang))
        w.table(TABLE_NAMES[dim], cols["group"], [r for r in analysis if r["dimension"] == dim])
    w.heading(t("lost.title.deals", lang))
    w.table("LostDeals", cols["deals"], tables.get("lost_deals", []))
    w.finish()


def _reason_chart(book: Book, w: Any, first: int, last: int, lang: str) -> None:
    chart = book.wb.add_chart({"type": "bar"})
    name = w.ws.name
    chart.add_series({"name": t("col.amount", lang), "categories": [name, first, 0, last, 0],
                      "values": [name, first, 2, last, 2], "fill": {"color": "#C55A11"},
                      "data_labels": {"value": True, "num_format": "#,##0"}})
    chart.set_title({"name": t("lost.chart.reasons", lang), "name_font": {"size": 12}})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"num_format": "#,##0", "major_gridlines": {"visible": False}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 560, "height": 320})
    w.ws.insert_chart(first - 1, 8, chart)


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    rows = tables.get("lost_deals", [])
    if not rows:
        return
    w = book.sheet(t("sheet.lost", book.lang))
    w.title(t("lost.title.deals", book.lang), book.subtitle)
    w.table("MyLostDeals", _cols()["deals"], rows)
    w.finish()

