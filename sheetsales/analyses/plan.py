"""The daily plan against the daily log (每日计划表, seed 001).

Each weekly report (version 2) carries next week's plan: one row per task, sales or non-sales,
ranked, with the day, the customer of a sales task and the hours planned. Once that week's days
have passed, the plan is compared with what the accepted log shows (:mod:`sheetsales.analyses.activity`):

* a **sales** task naming a customer is *done* when the person logged work on that customer that
  day, *later* when only on another day of that week, *not done* otherwise; one naming no customer
  is done when any sales work was logged that day;
* a **non-sales** task is done when non-sales work was logged that day;
* a day still ahead of ``as_of`` is *pending*.

Tables (``report --json`` key ``plans``): ``tasks`` (every planned task and its outcome) and
``weeks`` (per person and planned week: tasks planned and done by side, hours planned against hours
logged, the planned and the logged non-sales share: the "drowned in non-sales work" of seed 001).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..i18n import t
from ..reading.names import normalise_customer
from ..reading.templates import iso_week
from ..storage.store import plans
from . import activity
from .sections import PersonTable

if TYPE_CHECKING:
    from .analyse import Summary
    from .sections import Book, Inputs

KEY = "plans"
FEEDBACK = (PersonTable("tasks", "rep"), PersonTable("weeks", "rep", scope=True))
STATUSES = ("done", "later", "not_done", "pending")


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    lang = inputs.lang
    logged = defaultdict(list)  # (rep, planned week) -> accepted log rows of that week
    for e in activity.entries(inputs):
        logged[(e["rep"], iso_week(e["date"]))].append(e)
    tasks = []
    for p in sorted(inputs.store.weekly_rows(plans, inputs.as_of),
                    key=lambda p: (p["rep"], p["day"], p["side"] != "sales", p["rank"] or 99, p["row"])):
        week = iso_week(p["day"])
        rows = logged.get((p["rep"], week), [])
        sales = p["side"] == "sales"
        target = normalise_customer(p["deal"]) if sales and p["deal"] else ""

        def matches(e: dict, sales: bool = sales, target: str = target) -> bool:
            if not sales:
                return not e["sales"]
            if not target:
                return e["sales"]
            return target in (normalise_customer(e["deal"] or e["unit"] or ""), normalise_customer(e["customer"]))

        hits = [e for e in rows if matches(e)]
        if p["day"] > inputs.as_of:
            status = "pending"
        elif any(e["date"] == p["day"] for e in hits):
            status = "done"
        elif hits and sales:
            status = "later"
        else:
            status = "not_done"
        person = inputs.people.get(p["rep"], {})
        tasks.append({"rep": p["rep"], "rep_name": person.get("rep_name", p["rep"]), "team": person.get("team", ""),
                      "week": week, "day": p["day"], "side": p["side"], "side_label": t(f"plan.{p['side']}", lang),
                      "rank": p["rank"], "task": p["task"], "deal": p["deal"] or "", "planned_hours": p["hours"],
                      "logged_hours": round(sum(e["hours"] for e in hits if e["date"] == p["day"] or sales), 2),
                      "status": status, "status_label": t(f"plan.{status}", lang)})
    weeks = []
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for task in tasks:
        grouped[(task["rep"], task["week"])].append(task)
    for (rep, week), ts in sorted(grouped.items()):
        rows = logged.get((rep, week), [])
        out: dict[str, Any] = {"rep": rep, "rep_name": ts[0]["rep_name"], "team": ts[0]["team"], "week": week}
        for side in ("sales", "other"):
            mine = [x for x in ts if x["side"] == side]
            due = [x for x in mine if x["status"] != "pending"]
            out[f"{side}_planned"] = len(mine)
            out[f"{side}_done"] = sum(1 for x in due if x["status"] in ("done", "later"))
            out[f"{side}_done_share"] = _share(out[f"{side}_done"], len(due))
            out[f"{side}_planned_hours"] = round(sum(x["planned_hours"] or 0 for x in mine), 2)
            out[f"{side}_logged_hours"] = round(sum(e["hours"] for e in rows if e["sales"] == (side == "sales")), 2)
        out["planned_non_sales_share"] = _share(out["other_planned_hours"],
                                                out["sales_planned_hours"] + out["other_planned_hours"])
        out["logged_non_sales_share"] = _share(out["other_logged_hours"],
                                               out["sales_logged_hours"] + out["other_logged_hours"])
        top = [x for x in ts if x["side"] == "sales" and x["rank"] == 1 and x["status"] != "pending"]
        out["top_task_done"] = (all(x["status"] in ("done", "later") for x in top)) if top else None
        weeks.append(out)
    return {"tasks": tasks, "weeks": weeks}


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------
def _cols() -> dict[str, tuple]:
    from ..outputs.write import Col

    return {
        "weeks": (Col("rep_name", "col.rep_name", width=10), Col("week", "col.week", width=10),
                  Col("sales_planned", "col.sales_planned", "int", 9, "sum"),
                  Col("sales_done", "col.sales_done", "int", 9, "sum"),
                  Col("sales_done_share", "col.sales_done_share", "percent", 10),
                  Col("other_planned", "col.other_planned", "int", 10, "sum"),
                  Col("other_done", "col.other_done", "int", 10, "sum"),
                  Col("sales_planned_hours", "col.sales_planned_hours", "number", 10, "sum"),
                  Col("sales_logged_hours", "col.sales_logged_hours", "number", 10, "sum"),
                  Col("other_planned_hours", "col.other_planned_hours", "number", 10, "sum"),
                  Col("other_logged_hours", "col.other_logged_hours", "number", 10, "sum"),
                  Col("planned_non_sales_share", "col.planned_non_sales", "percent", 11),
                  Col("logged_non_sales_share", "col.logged_non_sales", "percent", 11)),
        "tasks": (Col("rep_name", "col.rep_name", width=10), Col("day", "col.date", "date", 11),
                  Col("side_label", "col.kind", width=10), Col("rank", "col.rank", "int", 6),
                  Col("task", "col.task", width=30), Col("deal", "col.customer", width=24),
                  Col("planned_hours", "col.planned_hours", "number", 9, "sum"),
                  Col("logged_hours", "col.hours", "number", 9, "sum"), Col("status_label", "col.status", width=10)),
    }


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None:
    lang, cols = book.lang, _cols()
    w = book.sheet(t("sheet.plans", lang))
    w.title(t("title.plans", lang), book.subtitle)
    w.heading(t("title.plan_weeks", lang))
    w.table("PlanWeeks", cols["weeks"], tables.get("weeks", []))
    w.heading(t("title.plan_tasks", lang))
    w.table("PlanTasks", cols["tasks"], tables.get("tasks", []))
    w.finish()  # widths, frozen header, landscape one page wide


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    if not tables.get("tasks") and not tables.get("weeks"):
        return
    lang, cols = book.lang, _cols()
    w = book.sheet(t("sheet.plans", lang))
    w.title(t("title.plans", lang), book.subtitle)
    w.heading(t("title.plan_weeks", lang))
    w.table("MyPlanWeeks", cols["weeks"], tables.get("weeks", []))
    w.heading(t("title.plan_tasks", lang))
    w.table("MyPlanTasks", cols["tasks"], tables.get("tasks", []))
    w.finish()  # widths, frozen header, landscape one page wide

