"""How deals move (seed 002): conversion, days per stage, win rate by stage, calibration, production.

Everything comes from the deals' saved rows (``DealState.history``), at the stage their milestones
evidence, for the deals first seen in the last ``history_days`` (small deals excepted):

* **conversion** per stage, for the company, each region, team and rep: of the deals that reached the
  stage and are no longer sitting in it (moved on, or closed), the share that reached the next one.
  A deal that entered the list at stage 3 has passed stages 1 and 2.
* **days per stage**: each completed stay at a stage (from the first save seen at it to the first save
  at another stage, or closed) — median and average.
* **win rate by furthest stage reached** of the closed deals (won ÷ (won + lost)).
* **calibration**: per stage, the share of the closed deals that reached it and were won, beside the
  playbook's probability, with the number of deals behind it. With at least ``calibration_min_deals``
  and a difference over ``calibration_tolerance``, ``probability-miscalibrated`` (info, to the heads
  of the company) suggests the empirical value.
* **rep profile**: deals opened, share moved past the search state, win rate of the deals that reached
  the best state — good at opening, at closing, both or neither, against the company.
* **production**: won amounts plus weighted open amounts by expected delivery month (the signing date
  when no delivery date is given) and product category, for production planning (seed 004).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..i18n import t
from ..method import rules
from .sections import PersonTable

if TYPE_CHECKING:
    from .analyse import Summary
    from .sections import Book, Inputs

KEY = "conversion"
LEVELS = ("company", "region", "team", "rep")
FEEDBACK = (PersonTable("profiles", "rep", scope=True),)


def _milestones(row: dict) -> set[int]:
    return {int(m) for m in (row.get("milestones") or "").split(",") if m}


def deal_path(state: rules.DealState, final: int) -> dict[str, Any]:
    """What one deal did: its furthest stage (before winning), its completed stays, its outcome."""
    stays: list[tuple[int, int]] = []  # (stage, days) of each completed stay
    current, since = None, None
    furthest = entered = 0
    outcome = "open"
    for r in state.history:
        stage = rules.evidenced_stage(int(r["stage"]), _milestones(r))
        status = r["status"]
        entered = entered or (min(stage, final - 1) if status == "won" else stage)
        if status in ("won", "lost"):
            if current is not None and since is not None:
                stays.append((current, (r["observed_on"] - since).days))
            outcome = status
            # A win's own row is the last stage: the furthest stage reached is the one before it.
            furthest = max(furthest, min(stage, final - 1) if status == "won" and not furthest else
                           stage if status == "lost" else 0)
            current = None
            break
        furthest = max(furthest, stage)
        if stage != current:
            if current is not None and since is not None:
                stays.append((current, (r["observed_on"] - since).days))
            current, since = stage, r["observed_on"]
    if state.status == "closed" and outcome == "open":
        outcome = "closed"
    return {"furthest": furthest, "entered": entered, "stays": stays, "outcome": outcome, "current": current}


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    playbook, people, as_of, lang = inputs.playbook, inputs.people, inputs.as_of, inputs.lang
    final = len(playbook.stages)
    since = as_of - dt.timedelta(days=int(playbook.settings.get("history_days", 365) or 365))
    paths = []
    for s in inputs.ctx.deals.values():
        if s.small or s.first_seen < since:
            continue
        p = deal_path(s, final)
        person = people.get(s.owner, {"team": "", "region": ""})
        p.update(deal=s.key, rep=s.owner, team=person["team"], region=person["region"])
        paths.append(p)

    def groups_of(p: dict) -> list[tuple[str, str]]:
        return [("company", "*"), ("region", p["region"]), ("team", p["team"]), ("rep", p["rep"])]

    by_group: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for p in paths:
        for g in groups_of(p):
            by_group[g].append(p)
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    conversion = []
    for (level, group), members in sorted(by_group.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        for stage in playbook.stages[:-1]:
            k = stage.order
            reached = [p for p in members if p["furthest"] >= k or p["outcome"] == "won"]
            moved = [p for p in reached if not (p["outcome"] == "open" and p["furthest"] == k)]
            advanced = [p for p in moved if p["furthest"] > k or p["outcome"] == "won"]
            days = [d for p in members for st, d in p["stays"] if st == k]
            closed = [p for p in members if p["outcome"] in ("won", "lost") and p["furthest"] == k]
            won = [p for p in closed if p["outcome"] == "won"]
            conversion.append({
                "level": level, "group": group, "stage_order": k, "stage": stage.name(lang),
                "reached": len(reached), "resolved": len(moved), "advanced": len(advanced),
                "conversion": round(len(advanced) / len(moved), 4) if moved else None,
                "stays": len(days), "median_days": statistics.median(days) if days else None,
                "average_days": round(sum(days) / len(days), 1) if days else None,
                "closed_here": len(closed), "won_here": len(won),
                "win_rate_here": round(len(won) / len(closed), 4) if closed else None,
            })
    return {"conversion": conversion, "calibration": _calibration(paths, playbook, lang),
            "profiles": _profiles(paths, by_group, people, playbook, lang),
            "production": _production(inputs)}


def _calibration(paths: list[dict], playbook: Any, lang: str) -> list[dict]:
    closed = [p for p in paths if p["outcome"] in ("won", "lost")]
    need = int(playbook.settings.get("calibration_min_deals", 10) or 0)
    tolerance = float(playbook.settings.get("calibration_tolerance", 0.15) or 0)
    out = []
    for stage in playbook.stages[:-1]:
        reached = [p for p in closed if p["furthest"] >= stage.order or p["outcome"] == "won"]  # a win passed them all
        won = sum(1 for p in reached if p["outcome"] == "won")
        empirical = round(won / len(reached), 4) if reached else None
        off = empirical is not None and len(reached) >= need and abs(empirical - stage.probability) > tolerance
        out.append({"stage_order": stage.order, "stage": stage.name(lang), "probability": stage.probability,
                    "deals": len(reached), "won": won, "empirical": empirical,
                    "difference": round(empirical - stage.probability, 4) if empirical is not None else None,
                    "miscalibrated": off, "suggested": empirical if off else None})
    return out


def _profiles(paths: list[dict], by_group: dict, people: dict, playbook: Any, lang: str) -> list[dict]:
    search = max((s.order for s in playbook.stages if s.funnel_state == "search"), default=0)
    best = min((s.order for s in playbook.stages if s.funnel_state == "best"), default=len(playbook.stages))

    def rates(members: list[dict]) -> tuple[int, float | None, float | None]:
        """(deals opened in the search state, the share of them that moved past it, the win rate of the
        closed deals that reached the best state)."""
        opened = [p for p in members if p["entered"] <= search]
        resolved = [p for p in opened if not (p["outcome"] == "open" and p["furthest"] <= search)]
        advanced = [p for p in resolved if p["furthest"] > search or p["outcome"] == "won"]
        late = [p for p in members if p["furthest"] >= best and p["outcome"] in ("won", "lost")]
        won = [p for p in late if p["outcome"] == "won"]
        return (len(opened), round(len(advanced) / len(resolved), 4) if resolved else None,
                round(len(won) / len(late), 4) if late else None)

    company = rates(by_group.get(("company", "*"), []))
    reps = [g for (level, g) in by_group if level == "rep"]
    avg_opened = sum(rates(by_group[("rep", r)])[0] for r in reps) / len(reps) if reps else 0
    out = []
    for rep in sorted(reps):
        opened, advance, close = rates(by_group[("rep", rep)])
        opener = opened > avg_opened and advance is not None and company[1] is not None and advance < company[1]
        closer = close is not None and company[2] is not None and close > company[2]
        profile = "both" if opener and closer else "opener" if opener else "closer" if closer else "neither"
        out.append({"rep": rep, "rep_name": people.get(rep, {}).get("rep_name", rep), "opened": opened,
                    "advance_rate": advance, "close_rate": close, "company_advance_rate": company[1],
                    "company_close_rate": company[2], "profile": profile,
                    "profile_label": t(f"conversion.profile.{profile}", lang)})
    return out


def _production(inputs: Inputs) -> list[dict]:
    """Won plus weighted open amounts by expected delivery month and category (from this month on)."""
    first = inputs.as_of.strftime("%Y-%m")
    stages = {s.order: s for s in inputs.playbook.stages}
    cells: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: {"won": 0.0, "weighted": 0.0})
    for s in inputs.ctx.deals.values():
        row = s.row
        day = row.get("delivery_date") or row.get("sign_date")
        if s.status == "won" and day:
            month = max(day.strftime("%Y-%m"), first)
            cells[(month, s.category)]["won"] += s.amount
        elif s.status == "open" and not s.small and day and s.evidenced in stages:
            month = max(day.strftime("%Y-%m"), first)
            cells[(month, s.category)]["weighted"] += s.amount * stages[s.evidenced].probability
    # Won deals delivered before this month are history, not production to plan.
    return [{"month": m, "category": c, "won": round(v["won"], 2), "weighted": round(v["weighted"], 2),
             "total": round(v["won"] + v["weighted"], 2)} for (m, c), v in sorted(cells.items())]


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    heads = tuple(p.id for p in inputs.playbook.team if not p.supervisor)
    return [rules.Alert("probability-miscalibrated", "", heads, {
        "stage": c["stage"], "probability": f"{c['probability']:.0%}", "empirical": f"{c['empirical']:.0%}",
        "deals": c["deals"], "won": c["won"]}, rep=heads[0] if heads else "")
        for c in tables["calibration"] if c["miscalibrated"]]


# --------------------------------------------------------------------------------------------
# The Conversion sheet
# --------------------------------------------------------------------------------------------
def _cols() -> dict[str, tuple]:
    from ..outputs.write import Col

    conv = (Col("stage_order", "col.stage_order", "int", 6), Col("stage", "col.stage", width=14),
            Col("reached", "conversion.col.reached", "int", 10), Col("resolved", "conversion.col.resolved", "int", 10),
            Col("advanced", "conversion.col.advanced", "int", 10),
            Col("conversion", "conversion.col.conversion", "percent", 10),
            Col("median_days", "conversion.col.median_days", "number", 10),
            Col("average_days", "conversion.col.average_days", "number", 10),
            Col("closed_here", "conversion.col.closed_here", "int", 10, "sum"),
            Col("won_here", "conversion.col.won_here", "int", 10, "sum"),
            Col("win_rate_here", "conversion.col.win_rate_here", "percent", 10))
    grouped = (Col("group_label", "col.group", width=16),) + conv
    calib = (Col("stage_order", "col.stage_order", "int", 6), Col("stage", "col.stage", width=14),
             Col("probability", "col.probability", "percent", 10), Col("deals", "conversion.col.deals", "int", 10),
             Col("won", "conversion.col.won", "int", 10), Col("empirical", "conversion.col.empirical", "percent", 10),
             Col("difference", "conversion.col.difference", "percent", 10),
             Col("suggested", "conversion.col.suggested", "percent", 10))
    profiles = (Col("rep", "col.rep", width=8), Col("rep_name", "col.rep_name", width=10),
                Col("opened", "conversion.col.opened", "int", 10, "sum"),
                Col("advance_rate", "conversion.col.advance_rate", "percent", 12),
                Col("close_rate", "conversion.col.close_rate", "percent", 12),
                Col("profile_label", "conversion.col.profile", width=22))
    production = (Col("month", "col.month", width=10), Col("category", "col.category", width=16),
                  Col("won", "conversion.col.won_amount", "money", 16, "sum"),
                  Col("weighted", "col.weighted", "money", 16, "sum"), Col("total", "conversion.col.total", "money", 16, "sum"))
    return {"conv": conv, "grouped": grouped, "calib": calib, "profiles": profiles, "production": production}


GROUP_NAMES = {"region": "ConversionByRegion", "team": "ConversionByTeam", "rep": "ConversionByRep"}


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None:
    lang = book.lang
    cols = _cols()
    w = book.sheet(t("sheet.conversion", lang))
    w.title(t("title.conversion", lang), book.subtitle)
    conv = tables.get("conversion", [])
    company = [r for r in conv if r["level"] == "company"]
    first, last = w.table("Conversion", cols["conv"], company)
    if company:
        _conversion_chart(book, w, first, last, lang)
        w.row = max(w.row, first + 18)
    w.heading(t("conversion.title.calibration", lang))
    first, last = w.table("Calibration", cols["calib"], tables.get("calibration", []))
    if tables.get("calibration"):
        _calibration_chart(book, w, first, last, lang)
        w.row = max(w.row, first + 18)
    w.heading(t("conversion.title.profiles", lang))
    w.table("RepProfiles", cols["profiles"], tables.get("profiles", []))
    w.heading(t("conversion.title.production", lang))
    w.table("Production", cols["production"], tables.get("production", []))
    for level, name in GROUP_NAMES.items():
        w.heading(f"{t('conversion.title.by', lang)} · {t('level.' + level, lang)}")
        w.table(name, cols["grouped"], [{**r, "group_label": r["group"]} for r in conv if r["level"] == level])
    w.finish()


def _conversion_chart(book: Book, w: Any, first: int, last: int, lang: str) -> None:
    name = w.ws.name
    chart = book.wb.add_chart({"type": "column"})
    chart.add_series({"name": t("conversion.col.conversion", lang), "categories": [name, first, 1, last, 1],
                      "values": [name, first, 5, last, 5], "fill": {"color": "#2E75B6"},
                      "data_labels": {"value": True, "num_format": "0%"}})
    days = book.wb.add_chart({"type": "line"})
    days.add_series({"name": t("conversion.col.median_days", lang), "categories": [name, first, 1, last, 1],
                     "values": [name, first, 6, last, 6], "y2_axis": True, "line": {"color": "#C55A11"},
                     "marker": {"type": "circle", "size": 5}})
    chart.combine(days)
    chart.set_title({"name": t("conversion.chart.conversion", lang), "name_font": {"size": 12}})
    chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    days.set_y2_axis({"num_format": "0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 320})
    w.ws.insert_chart(first - 1, 12, chart)


def _calibration_chart(book: Book, w: Any, first: int, last: int, lang: str) -> None:
    name = w.ws.name
    chart = book.wb.add_chart({"type": "column"})
    chart.add_series({"name": t("col.probability", lang), "categories": [name, first, 1, last, 1],
                      "values": [name, first, 2, last, 2], "fill": {"color": "#BFBFBF"}})
    chart.add_series({"name": t("conversion.col.empirical", lang), "categories": [name, first, 1, last, 1],
                      "values": [name, first, 5, last, 5], "fill": {"color": "#548235"}})
    chart.set_title({"name": t("conversion.chart.calibration", lang), "name_font": {"size": 12}})
    chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 320})
    w.ws.insert_chart(first - 1, 12, chart)


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    rows = tables.get("profiles", [])
    if not rows:
        return
    w = book.sheet(t("sheet.conversion", book.lang))
    w.title(t("conversion.title.profiles", book.lang), book.subtitle)
    w.table("MyProfile", _cols()["profiles"], rows)
    w.finish()
