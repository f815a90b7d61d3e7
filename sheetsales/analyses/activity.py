"""Diligence and effectiveness from the daily log (勤奋曲线, 能力曲线; seed 003, seed 001).

Only accepted log rows count (:mod:`sheetsales.method.logchain`: a rewritten row counts as first recorded),
dated by the day the work was done, up to ``as_of``. For each row:

* **hours** and **cost** as entered; the **score** is the sum of the weights of the activity types
  ticked (the playbook's Activity types sheet);
* it is **sales** work when a ticked type is sales work, or, with nothing ticked, when it names a
  customer; otherwise non-sales work (meetings, paperwork): the **non-sales share** is non-sales
  hours ÷ hours;
* its **deal**: the customer picked (or, in a version 1 report, the unit visited) matched to a deal
  the person owns or entered, by normalised customer name (an open deal first, then the largest);
  the deal's **stage** on the day of the work is the stage its list showed then.

Tables (``report --json`` key ``activity``): ``daily`` and ``monthly`` per person (hours, cost,
score, non-sales share: the curves), ``ranking`` over the playbook's ``activity_window_days``
(hours, score, score per hour, deals worked, deals converted, conversion, team rank), ``deals``
(activity per deal) and ``stages`` (activity per stage and person).

**Conversion** is the share of the deals a person worked in the window that moved forward in it
(a stage advance or a win). ``busy-not-converting``: a rep whose hours are in their team's top
quarter while their conversion is in its bottom quarter (teams of four or more reps who logged
work): busy, yet little moves, the sign seed 001 gives of a weak qualification.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from ..i18n import t
from ..method import rules
from ..reading.names import normalise_customer
from ..storage.store import log_entries
from .sections import PersonTable

if TYPE_CHECKING:
    from ..method.playbook import Playbook
    from ..method.rules import DealState
    from .analyse import Summary
    from .sections import Book, Inputs

KEY = "activity"
FEEDBACK = (PersonTable("daily", "rep"), PersonTable("monthly", "rep"), PersonTable("ranking", "rep", scope=True),
            PersonTable("team_ranking", "reader"),
            PersonTable("deals", "rep"))
DEFAULT_WINDOW_DAYS = 28
CHARTS_ACROSS, CHART_ROWS, CHART_WIDTH = 3, 12, 400  # the summary's small multiples: one chart per rep


# --------------------------------------------------------------------------------------------
# The accepted log rows, enriched
# --------------------------------------------------------------------------------------------
def window_days(playbook: Playbook) -> int:
    return int(playbook.settings.get("activity_window_days") or DEFAULT_WINDOW_DAYS)


def _stage_on(state: DealState, day: dt.date) -> int:
    stage = state.history[0]["stage"] if state.history else state.claimed
    for row in state.history:
        if row["observed_on"] <= day:
            stage = row["stage"]
    return stage


def deal_index(deals: dict[str, DealState]) -> dict[tuple[str, str], list[DealState]]:
    """(person, normalised customer) → the deals that person owns or entered, best match first."""
    out: dict[tuple[str, str], list[DealState]] = defaultdict(list)
    for s in deals.values():
        for person in {s.owner, s.rep, *(r["rep"] for r in s.history)}:
            out[(person, s.customer_norm)].append(s)
    for found in out.values():
        found.sort(key=lambda s: (s.status != "open", -s.amount, s.key))
    return out


def entries(inputs: Inputs) -> list[dict]:
    """Every accepted log row worked by ``as_of``, with its score, sales flag, deal and stage (computed once
    per report: the false reports and the plan read them too)."""
    cached = getattr(inputs, "_log_entries", None)
    if cached is None:
        cached = _entries(inputs)
        inputs._log_entries = cached  # type: ignore[attr-defined]
    return cached


def _entries(inputs: Inputs) -> list[dict]:
    types = {a.code: a for a in inputs.playbook.activity_types}
    index = deal_index(inputs.ctx.deals)
    out = []
    for e in inputs.store.rows(log_entries, inputs.as_of):
        if e["date"] > inputs.as_of:
            continue
        ticked = [c for c in (e["types"] or "").split(",") if c]
        known = [types[c] for c in ticked if c in types]
        named = e["deal"] or e["unit"]
        sales = any(a.sales for a in known) if known else bool(named)
        found = index.get((e["rep"], normalise_customer(named)), []) if named else []
        state = found[0] if found else None
        out.append({**e, "ticked": ticked, "score": sum(a.weight for a in known), "sales": sales,
                    "hours": e["hours"] or 0.0, "cost": e["cost"] or 0.0,
                    "deal_id": state.key if state else "", "customer": state.customer if state else (named or ""),
                    "stage": _stage_on(state, e["date"]) if state else None})
    return out


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _person(inputs: Inputs, pid: str) -> dict:
    p = inputs.people.get(pid, {})
    return {"rep": pid, "rep_name": p.get("rep_name", pid), "team": p.get("team", "")}


def _totals(rows: list[dict]) -> dict[str, Any]:
    hours = sum(r["hours"] for r in rows)
    other = sum(r["hours"] for r in rows if not r["sales"])
    return {"entries": len(rows), "hours": round(hours, 2), "cost": round(sum(r["cost"] for r in rows), 2),
            "score": round(sum(r["score"] for r in rows), 2), "sales_hours": round(hours - other, 2),
            "non_sales_hours": round(other, 2), "non_sales_share": _share(other, hours)}


# --------------------------------------------------------------------------------------------
# Conversion: deals worked in the window that moved forward in it
# --------------------------------------------------------------------------------------------
def moved_forward(state: DealState, start: dt.date, end: dt.date) -> bool:
    """Whether the deal advanced a stage or was won between ``start`` and ``end`` (both included)."""
    previous = None
    for row in state.history:
        if previous is not None and start <= row["observed_on"] <= end and (
                row["stage"] > previous["stage"] or (row["status"] == "won" and previous["status"] != "won")):
            return True
        previous = row
    return False


def quartiles(values: list[float]) -> tuple[float, float]:
    """(first quartile, third quartile), inclusive method: the bounds of the bottom and top quarter."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


# --------------------------------------------------------------------------------------------
# The section
# --------------------------------------------------------------------------------------------
def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    rows = entries(inputs)
    by_day: dict[tuple[str, dt.date], list[dict]] = defaultdict(list)
    by_month: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        by_day[(r["rep"], r["date"])].append(r)
        by_month[(r["rep"], r["date"].strftime("%Y-%m"))].append(r)
    daily = [{**_person(inputs, rep), "date": day, **_totals(rs)} for (rep, day), rs in sorted(by_day.items())]
    monthly = []
    for (rep, month), rs in sorted(by_month.items()):
        days = len({r["date"] for r in rs})
        tot = _totals(rs)
        monthly.append({**_person(inputs, rep), "month": month, "days": days, **tot,
                        "hours_per_day": round(tot["hours"] / days, 2), "score_per_day": round(tot["score"] / days, 2)})

    window = window_days(inputs.playbook)
    start = inputs.as_of - dt.timedelta(days=window - 1)
    recent: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["date"] >= start:
            recent[r["rep"]].append(r)
    ranking = []
    for person in inputs.playbook.reps:
        if person.id not in inputs.people:
            continue
        rs = recent.get(person.id, [])
        tot = _totals(rs)
        worked = {r["deal_id"] for r in rs if r["deal_id"]}
        converted = {d for d in worked if moved_forward(inputs.ctx.deals[d], start, inputs.as_of)}
        ranking.append({**_person(inputs, person.id), "window_days": window, "window_end": inputs.as_of,
                        "hours": tot["hours"],
                        "score": tot["score"], "score_per_hour": _share(tot["score"], tot["hours"]),
                        "non_sales_share": tot["non_sales_share"], "deals_worked": len(worked),
                        "deals_converted": len(converted), "conversion": _share(len(converted), len(worked)),
                        "busy_not_converting": False})
    _flag_busy(ranking)
    ranking.sort(key=lambda r: (r["team"], -r["score"], -r["hours"], r["rep"]))  # ranked within each team
    for team in {r["team"] for r in ranking}:
        for rank, r in enumerate((r for r in ranking if r["team"] == team), 1):
            r["rank"] = rank

    per_deal: dict[str, list[dict]] = defaultdict(list)
    per_stage: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for r in rows:
        if r["deal_id"]:
            per_deal[r["deal_id"]].append(r)
            per_stage[(r["stage"], r["rep"])].append(r)
    deals = []
    for key, rs in per_deal.items():
        s = inputs.ctx.deals[key]
        tot = _totals(rs)
        deals.append({"deal": key, **_person(inputs, s.owner), "customer": s.customer, "category": s.category,
                      "stage": inputs.playbook.stage(s.evidenced).name(inputs.lang), "status": s.status,
                      "entries": tot["entries"], "hours": tot["hours"], "cost": tot["cost"], "score": tot["score"],
                      "last_date": max(r["date"] for r in rs)})
    deals.sort(key=lambda d: (-d["hours"], d["deal"]))
    stages = [{"stage_order": stage, "stage": inputs.playbook.stage(stage).name(inputs.lang), **_person(inputs, rep),
               "deals": len({r["deal_id"] for r in rs}), **{k: v for k, v in _totals(rs).items()
                                                             if k in ("entries", "hours", "cost", "score")}}
              for (stage, rep), rs in sorted(per_stage.items())]
    stage_totals = []
    for stage in inputs.playbook.stages:
        rs = [r for r in rows if r["deal_id"] and r["stage"] == stage.order]
        deals_n = len({r["deal_id"] for r in rs})
        tot = _totals(rs)
        stage_totals.append({"stage_order": stage.order, "stage": stage.name(inputs.lang), "deals": deals_n,
                             **{k: tot[k] for k in ("entries", "hours", "cost", "score")},
                             "hours_per_deal": round(tot["hours"] / deals_n, 2) if deals_n else None})
    return {"daily": daily, "monthly": monthly, "ranking": ranking, "team_ranking": _team_ranking(inputs, ranking),
            "deals": deals, "stages": stages, "stage_totals": stage_totals}


def _team_ranking(inputs: Inputs, ranking: list[dict]) -> list[dict]:
    """Each reader's view of their own team's ranking beyond their scope (their scope's rows are in
    ``ranking``): named when the reader's level has named rankings, anonymised otherwise (nine levels:
    a rep sees where they stand in the team, not whose figures the other places are)."""
    from ..method import scopes

    every = scopes.all_scopes(inputs.people)
    by_team: dict[str, list[dict]] = defaultdict(list)
    for r in ranking:
        by_team[r["team"]].append(r)
    out = []
    for reader, person in inputs.people.items():
        seen = every.get(reader, {reader})
        for r in by_team.get(person.get("team", ""), []):
            if r["rep"] in seen:
                continue
            named = bool(person.get("named", False))
            out.append({**r, "reader": reader, "rep": r["rep"] if named else "",
                        "rep_name": r["rep_name"] if named else t("activity.anonymous", inputs.lang)})
    return out


def _flag_busy(ranking: list[dict]) -> None:
    teams: dict[str, list[dict]] = defaultdict(list)
    for r in ranking:
        if r["hours"] > 0:
            teams[r["team"]].append(r)
    for members in teams.values():
        if len(members) < 4:
            continue
        _, hours_q3 = quartiles([r["hours"] for r in members])
        conv_q1, _ = quartiles([r["conversion"] or 0.0 for r in members])
        for r in members:
            r["busy_not_converting"] = r["hours"] >= hours_q3 and (r["conversion"] or 0.0) <= conv_q1
            if r["busy_not_converting"]:
                r["team_hours_q3"], r["team_conversion_q1"] = round(hours_q3, 2), round(conv_q1, 4)


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    out = []
    for r in tables["ranking"]:
        if r["busy_not_converting"]:
            boss = inputs.people.get(r["rep"], {}).get("supervisor", "")
            out.append(rules.Alert("busy-not-converting", "", tuple(p for p in (r["rep"], boss) if p), {
                "name": r["rep_name"], "days": r["window_days"], "hours": r["hours"], "q3": r["team_hours_q3"],
                "conversion": f"{r['conversion'] or 0:.0%}", "q1": f"{r['team_conversion_q1']:.0%}",
                "worked": r["deals_worked"], "converted": r["deals_converted"]}, rep=r["rep"]))
    return out


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------
def _cols() -> dict[str, tuple]:
    from ..outputs.write import Col

    return {
        "ranking": (Col("rank", "col.rank", "int", 6), Col("rep", "col.rep", width=8),
                    Col("rep_name", "col.rep_name", width=10), Col("team", "col.team", width=12),
                    Col("hours", "col.hours", "number", 9, "sum"), Col("score", "col.score", "number", 9, "sum"),
                    Col("score_per_hour", "col.score_per_hour", "number", 10),
                    Col("non_sales_share", "col.non_sales_share", "percent", 11),
                    Col("deals_worked", "col.deals_worked", "int", 10, "sum"),
                    Col("deals_converted", "col.deals_converted", "int", 10, "sum"),
                    Col("conversion", "col.conversion", "percent", 9), Col("busy", "col.busy", width=14)),
        "monthly": (Col("rep", "col.rep", width=8), Col("rep_name", "col.rep_name", width=10),
                    Col("month", "col.month", width=9), Col("days", "col.days_logged", "int", 9),
                    Col("hours", "col.hours", "number", 9, "sum"), Col("hours_per_day", "col.hours_per_day", "number", 10),
                    Col("score", "col.score", "number", 9, "sum"), Col("score_per_day", "col.score_per_day", "number", 10),
                    Col("cost", "col.cost", "money", 10, "sum"), Col("non_sales_share", "col.non_sales_share", "percent", 11)),
        "daily": (Col("date", "col.date", "date", 11), Col("hours", "col.hours", "number", 9, "sum"),
                  Col("score", "col.score", "number", 9, "sum"), Col("cost", "col.cost", "money", 10, "sum"),
                  Col("non_sales_share", "col.non_sales_share", "percent", 11), Col("entries", "col.entries", "int", 8, "sum")),
        "deals": (Col("deal", "col.deal", width=14), Col("rep_name", "col.rep_name", width=10),
                  Col("customer", "col.customer", width=26), Col("stage", "col.stage", width=12),
                  Col("entries", "col.entries", "int", 8, "sum"), Col("hours", "col.hours", "number", 9, "sum"),
                  Col("score", "col.score", "number", 9, "sum"), Col("cost", "col.cost", "money", 10, "sum"),
                  Col("last_date", "col.last_logged", "date", 11)),
        "stage_totals": (Col("stage_order", "col.stage_order", "int", 6), Col("stage", "col.stage", width=12),
                         Col("deals", "col.count", "int", 8, "sum"), Col("entries", "col.entries", "int", 8, "sum"),
                         Col("hours", "col.hours", "number", 9, "sum"), Col("score", "col.score", "number", 9, "sum"),
                         Col("cost", "col.cost", "money", 10, "sum"),
                         Col("hours_per_deal", "col.hours_per_deal", "number", 10)),
        "stages": (Col("stage_order", "col.stage_order", "int", 6), Col("stage", "col.stage", width=12),
                   Col("rep_name", "col.rep_name", width=10), Col("deals", "col.count", "int", 8, "sum"),
                   Col("entries", "col.entries", "int", 8, "sum"), Col("hours", "col.hours", "number", 9, "sum"),
                   Col("score", "col.score", "number", 9, "sum"), Col("cost", "col.cost", "money", 10, "sum")),
    }


def _ranking_rows(rows: list[dict], lang: str) -> list[dict]:
    return [{**r, "busy": t("activity.busy", lang) if r["busy_not_converting"] else ""} for r in rows]


def _days(end: dt.date, n: int) -> list[dt.date]:
    return [end - dt.timedelta(days=n - 1 - i) for i in range(n)]


def pivot_headers(first: str, people: list[dict]) -> list[str]:
    """``first``, then each person's name: a name two people share (or the first column's) gets the
    person's id, ``吴秀 (R0123)``, since a table's headers must differ (ignoring case) or Excel and
    XlsxWriter refuse the table."""
    taken = Counter(str(p["rep_name"]).casefold() for p in people)
    taken[first.casefold()] += 1
    return [first] + [p["rep_name"] if taken[str(p["rep_name"]).casefold()] == 1 else f"{p['rep_name']} ({p['rep']})"
                      for p in people]


def _pivot(book: Book, w: Any, name: str, days: list[dt.date], people: list[dict], values: dict) -> tuple[int, int]:
    """A table of ``days`` × ``people`` (one column per person, named by their name); (first, last) data rows."""
    ws, f = w.ws, book.formats
    header = pivot_headers(t("col.date", book.lang), people)
    first = w.row + 1
    last = first + len(days) - 1
    ws.add_table(w.row, 0, last, len(people), {
        "name": name, "style": "Table Style Light 9", "autofilter": False,
        "columns": [{"header": h, "header_format": f["header"]} for h in header]})
    for i, day in enumerate(days):
        ws.write_datetime(first + i, 0, dt.datetime.combine(day, dt.time()), f["date"])
        for c, p in enumerate(people, 1):
            ws.write_number(first + i, c, values.get((p["rep"], day), 0), f["number"])
    from ..outputs.widths import display_width

    for c, h in enumerate(header):  # every person's name whole on one line, beside the filter button
        w.widths[c] = max(w.widths.get(c, 0), 11 if c == 0 else 8, display_width(h) + 2)
    w.row = last + 2
    return first, last


def _line_chart(book: Book, sheet: str, title: str, y_title: str, first: int, last: int, series: list[tuple[str, int]],
                secondary: tuple[str, int] | None = None) -> Any:
    chart = book.wb.add_chart({"type": "line"})
    for name, col in series:
        chart.add_series({"name": name, "categories": [sheet, first, 0, last, 0],
                          "values": [sheet, first, col, last, col], "marker": {"type": "circle", "size": 3}})
    if secondary:
        chart.add_series({"name": secondary[0], "categories": [sheet, first, 0, last, 0], "y2_axis": True,
                          "values": [sheet, first, secondary[1], last, secondary[1]], "marker": {"type": "square", "size": 3}})
        chart.set_y2_axis({"name": t("col.score", book.lang)})
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_x_axis({"date_axis": True, "num_format": "mm-dd", "num_font": {"rotation": -45}})
    chart.set_y_axis({"name": y_title, "min": 0})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 320})
    return chart


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None:
    lang, cols = book.lang, _cols()
    w = book.sheet(t("sheet.activity", lang))
    w.title(t("title.activity", lang), book.subtitle)
    ranking = tables.get("ranking", [])
    window = ranking[0]["window_days"] if ranking else DEFAULT_WINDOW_DAYS
    w.heading(t("title.activity_ranking", lang, days=window))
    w.table("ActivityRanking", cols["ranking"], _ranking_rows(ranking, lang))
    people = sorted(ranking, key=lambda r: r["rep"])
    days = _days(summary.as_of, window)
    hours = {(r["rep"], r["date"]): r["hours"] for r in tables.get("daily", [])}
    scores = {(r["rep"], r["date"]): r["score"] for r in tables.get("daily", [])}
    # One small line chart per rep (their hours and score per day), three abreast, above the data.
    w.heading(t("title.curves_per_rep", lang, days=window))
    grid = w.row
    w.row += -(-len(people) // CHARTS_ACROSS) * CHART_ROWS
    ranges = []
    for title, name, values in (("title.diligence", "DiligenceCurve", hours),
                                ("title.effectiveness", "EffectivenessCurve", scores)):
        w.heading(t(title, lang))
        ranges.append(_pivot(book, w, name, days, people, values))
    (first, last), (s_first, s_last) = ranges
    sheet = w.ws.name
    for i, p in enumerate(people):
        chart = book.wb.add_chart({"type": "line"})
        chart.add_series({"name": t("col.hours", lang), "categories": [sheet, first, 0, last, 0],
                          "values": [sheet, first, i + 1, last, i + 1], "line": {"color": "#2E75B6", "width": 1.5}})
        chart.add_series({"name": t("col.score", lang), "categories": [sheet, s_first, 0, s_last, 0],
                          "values": [sheet, s_first, i + 1, s_last, i + 1], "y2_axis": True,
                          "line": {"color": "#ED7D31", "width": 1.5}})
        chart.set_title({"name": f"{p['rep_name']}({p['rep']})" if lang != "en" else f"{p['rep_name']} ({p['rep']})",
                         "name_font": {"size": 10}})
        chart.set_x_axis({"date_axis": True, "num_format": "mm-dd", "num_font": {"size": 7, "rotation": -45}})
        chart.set_y_axis({"min": 0, "num_font": {"size": 7}, "major_gridlines": {"visible": True,
                                                                              "line": {"color": "#E7E6E6"}}})
        chart.set_y2_axis({"min": 0, "num_font": {"size": 7}})
        chart.set_legend({"position": "bottom", "font": {"size": 7}})
        chart.set_size({"width": CHART_WIDTH, "height": CHART_ROWS * 20 - 8})
        w.ws.insert_chart(grid + (i // CHARTS_ACROSS) * CHART_ROWS, 0, chart,
                          {"x_offset": (i % CHARTS_ACROSS) * (CHART_WIDTH + 8), "y_offset": 4, "object_position": 3})
    w.heading(t("title.activity_monthly", lang))
    w.table("ActivityMonthly", cols["monthly"], tables.get("monthly", []))
    _printable(w)

    w = book.sheet(t("sheet.activity_deals", lang))
    w.title(t("title.activity_deals", lang), book.subtitle)
    w.heading(t("title.activity_stage_totals", lang))
    w.table("ActivityByStage", cols["stage_totals"], tables.get("stage_totals", []))
    w.heading(t("title.activity_stages", lang))
    w.table("ActivityStages", cols["stages"], tables.get("stages", []))
    w.heading(t("title.activity_per_deal", lang))
    w.table("ActivityDeals", cols["deals"], tables.get("deals", []))
    _printable(w)


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    lang, cols = book.lang, _cols()
    mine = [r for r in tables.get("daily", []) if r["rep"] == person["rep"]]
    ranking = tables.get("ranking", [])
    if not mine and not ranking:
        return
    w = book.sheet(t("sheet.my_activity", lang))
    w.title(t("title.my_activity", lang), book.subtitle)
    if mine:
        end = ranking[0]["window_end"] if ranking else max(r["date"] for r in mine)
        window = ranking[0]["window_days"] if ranking else DEFAULT_WINDOW_DAYS
        by_day = {r["date"]: r for r in mine}
        days = _days(end, window)
        curve = [by_day.get(d, {"date": d, "hours": 0, "score": 0, "cost": 0, "non_sales_share": None, "entries": 0})
                 for d in days]
        w.heading(t("title.my_curves", lang, days=window))
        anchor = w.row
        first, last = w.table("MyCurves", cols["daily"], curve)
        chart = _line_chart(book, w.ws.name, t("title.my_curves", lang, days=window), t("col.hours", lang), first, last,
                            [(t("col.hours", lang), 1)], secondary=(t("col.score", lang), 2))
        w.ws.insert_chart(anchor, len(cols["daily"]) + 1, chart)
    w.heading(t("title.activity_monthly", lang))
    w.table("MyMonthly", cols["monthly"], [r for r in tables.get("monthly", []) if r["rep"] == person["rep"]])
    ranking = ranking + tables.get("team_ranking", [])  # the team's places beyond the reader's scope
    if ranking:
        w.heading(t("title.activity_ranking", lang, days=ranking[0]["window_days"]))
        w.table("MyRanking", cols["ranking"],
                _ranking_rows(sorted(ranking, key=lambda r: (r["team"], r["rank"], r["rep"])), lang))
    deals = [r for r in tables.get("deals", []) if r["rep"] == person["rep"]]
    if deals:
        w.heading(t("title.activity_per_deal", lang))
        w.table("MyActivityDeals", cols["deals"], deals)
    _printable(w)


def _printable(w: Any) -> None:
    """Finish a sheet: widths, frozen title, printed landscape one page wide (all SheetWriter.finish)."""
    w.finish()
