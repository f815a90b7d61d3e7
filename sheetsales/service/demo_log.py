"""The demo's daily log as the three moves (issue 10): the scripted parts, as data.

``demo.py`` calls three hooks:

* :func:`ticks`: what a rep ticks for a log row, from the phrase the demo wrote (every phrase of
  ``demo.ACTIVITIES`` and ``demo.OFFICE`` maps to activity types of the default playbook);
* :func:`busy`: the hours of a rep who works long days on deals that do not move (the scripted
  ``busy-not-converting``: :data:`BUSY_REPS`);
* :func:`plan_rows`: next week's plan sheet (seed 001): the rep's biggest open deals as ranked
  sales tasks, the weekly meeting and the paperwork as non-sales tasks;
* :func:`rewrite_logs`: the scripted ``log-rewritten``: in the weeks of :data:`LOG_REWRITES` a rep
  opens the previous week's report again, inflates a row's hours and deletes another row.

Nothing here draws from the demo's random generators: the deals' fate and the reports' wording, and
so every figure that existed before, stay as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from ..reading.specs import FIRST_DATA_ROW, LOG_TABLE, TICK
from ..reading.templates import iso_week, template_filename

# The activity types a demo phrase stands for (by its zh-CN text).
PHRASE_TICKS: dict[str, tuple[str, ...]] = {
    "电话了解需求,确认立项意向": ("call",),
    "上门拜访设备科,结识技术科长": ("visit",),
    "拜访采购部,了解预算": ("visit",),
    "提交技术方案初稿": ("proposal",),
    "与技术部讨论工艺方案": ("visit", "proposal"),
    "陪同客户参观样板工厂": ("demo",),
    "样机试切演示": ("demo",),
    "参加技术交流会,答疑": ("visit", "demo"),
    "准备投标文件": ("proposal",),
    "拜访分管副总,汇报方案优势": ("visit",),
    "商务谈判:付款方式与交期": ("negotiation",),
    "合同条款逐条确认": ("negotiation",),
    "签约仪式,合同盖章": ("signing",),
    "内部周会,MPC周评": ("meeting",),
    "整理客户资料,更新MPC一览表": ("admin",),
}

# Reps who log long days on deals that hardly move: their rows' hours are multiplied by this.
BUSY_REPS: dict[str, float] = {"R06": 2.0}

# (week, rep, changes): in the week ``week`` (counted from the last, -1 being the last), ``rep`` saves the
# previous week's report again with these changes to its log rows (by position, 0 = the first row):
# (row, column, value) changes a value, (row, None, None) deletes the row.
LOG_REWRITES: tuple[tuple[int, str, tuple[tuple[int, str | None, Any], ...]], ...] = (
    (-2, "R05", ((0, "hours", 9.0), (1, None, None))),
)

PLAN_OTHER: tuple[tuple[tuple[str, str], float], ...] = (
    (("内部周会,MPC周评", "Weekly team meeting, MPC review"), 1.5),
    (("整理客户资料,更新MPC一览表", "Update customer records and the MPC list"), 1.0),
)
PLAN_SALES: tuple[tuple[str, str], ...] = (("跟进:{customer}", "Follow up: {customer}"),)


def ticks(phrase: tuple[str, str]) -> dict[str, str]:
    """The tick cells of a log row whose work content is ``phrase`` (zh-CN, en)."""
    return {f"t_{code}": TICK for code in PHRASE_TICKS.get(phrase[0], ())}


def busy(rep_id: str, log: list[dict]) -> None:
    """Lengthen the hours of a scripted busy rep's rows (in place)."""
    factor = BUSY_REPS.get(rep_id)
    if factor:
        for row in log:
            row["hours"] = min(row["hours"] * factor, 12.0)


def plan_rows(deals: Sequence[Any], monday: dt.date, lang: str, weighted: Callable[[Any], float],
              customer: Callable[[Any], str]) -> list[dict]:
    """Next week's plan: the three open deals worth most, one a day from Monday, then the office work."""
    nxt = monday + dt.timedelta(days=7)
    top = sorted((d for d in deals if d.status == "open" and not d.neglected), key=lambda d: -weighted(d))[:3]
    rows = []
    for i, d in enumerate(top):
        name = customer(d)
        task = PLAN_SALES[0][1 if lang == "en" else 0].format(customer=name)
        rows.append({"day": nxt + dt.timedelta(days=i), "side": "sales" if lang == "en" else "销售工作", "rank": i + 1,
                     "task": task, "deal": name, "hours": 2.0})
    for i, (task, hours) in enumerate(PLAN_OTHER):
        rows.append({"day": nxt + dt.timedelta(days=i), "side": "non-sales" if lang == "en" else "非销售工作",
                     "rank": i + 1, "task": task[1 if lang == "en" else 0], "hours": hours})
    return rows


def _log_rows(path: Path) -> list[dict]:
    wb = openpyxl.load_workbook(path)
    ws = next(wb[n] for n in (LOG_TABLE.zh, LOG_TABLE.en) if n in wb.sheetnames)
    rows = []
    for values in ws.iter_rows(min_row=FIRST_DATA_ROW, max_col=len(LOG_TABLE.columns), values_only=True):
        if all(v in (None, "") for v in values):
            continue
        rows.append({c.key: v for c, v in zip(LOG_TABLE.columns, values, strict=True) if v not in (None, "")})
    return rows


def rewrite_logs(root: Path, lang: str, week_index: int, weeks: int, monday: dt.date,
                 fill: Callable[..., Path]) -> list[str]:
    """The scripted rewrites of this week: the previous week's reports saved again, altered."""
    done = []
    for when, rep, changes in LOG_REWRITES:
        if weeks + when != week_index or week_index == 0:
            continue
        path = root / "inbox" / rep / template_filename("weekly", lang, rep, iso_week(monday - dt.timedelta(days=7)))
        if not path.exists():
            continue
        rows = _log_rows(path)
        dropped = {i for i, column, _ in changes if column is None}
        for i, column, value in changes:
            if column is not None and i < len(rows):
                rows[i][column] = value
        fill(path, ((LOG_TABLE, [r for i, r in enumerate(rows) if i not in dropped]),))
        done.append(rep)
    return done
