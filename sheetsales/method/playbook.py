"""The playbook (作战手册): the method as data that managers edit in Excel.

``playbook.xlsx`` holds the stages with their win probabilities, time limits,
funnel states and milestones; the team; targets; products; settings. It is read
and validated like any input: a bad playbook yields cell-addressed issues and
the last good one stays in force.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

from ..issues import Issue
from ..reading.drawing import FIXED_CREATED, Formats, draw_table, write_list_sheet
from ..reading.read import DEFAULT_MAX_CELLS, DEFAULT_MAX_ROWS, open_workbook, read_table
from ..reading.specs import (
    ACTIVITY_TYPES_TABLE,
    BUYING_ROLES,
    DECISION_CHOICES,
    DEFAULT_ACTIVITY_TYPES,
    FUNNEL_STATES,
    OPTIONAL_PLAYBOOK_TABLES,
    PLAYBOOK_TABLES,
    PRODUCTS_TABLE,
    QUALIFICATION_QUESTIONS,
    REACH_CHOICES,
    SIDE_CHOICES,
    STAGES_TABLE,
    STATUS_CHOICES,
    TARGETS_TABLE,
    TEAM_TABLE,
    TICK,
    YESNO_CHOICES,
    choice_key,
    choice_label,
)
from ..reading.validate import FixedChoices, validate_table
from .scopes import DEFAULT_LEVELS, Level


@dataclass(frozen=True)
class Stage:
    order: int
    name_zh: str
    name_en: str
    probability: float
    limit_days: int | None
    funnel_state: str
    customer_step: str = ""
    milestone_zh: str = ""
    milestone_en: str = ""

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    region: str
    team: str
    supervisor: str = ""
    level: int = 1
    email: str = ""


@dataclass(frozen=True)
class ActivityType:
    """What a rep can tick in the daily log: its weight scores effectiveness; sales or non-sales work."""

    code: str
    name_zh: str
    name_en: str
    weight: float = 1.0
    sales: bool = True

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


DEFAULT_ACTIVITY_TYPE_LIST: tuple[ActivityType, ...] = tuple(ActivityType(*t) for t in DEFAULT_ACTIVITY_TYPES)


@dataclass(frozen=True)
class Question:
    """One of the nine qualifying questions; ``rules_out`` is the yes/no answer that disqualifies a deal."""

    no: int
    zh: str
    en: str
    rules_out: str = ""  # yes | no | ""

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


# The default questions (DOMAIN.md §4): a hard constraint against us, no budget, volume or margin below our floor
# rule a deal out.
DEFAULT_QUESTIONS: tuple[Question, ...] = tuple(
    Question(int(k[1:]), zh.split(" ", 1)[1], en.split(" ", 1)[1], {3: "yes", 4: "no", 8: "no", 9: "no"}.get(int(k[1:]), ""))
    for k, zh, en in QUALIFICATION_QUESTIONS)


@dataclass(frozen=True)
class Budget:
    """An expense budget of a person or team for a period (year, quarter or month), by type."""

    owner: str
    period: str
    travel: float | None = None
    entertainment: float | None = None
    other: float | None = None


@dataclass(frozen=True)
class Target:
    owner: str
    period: str
    amount: float


DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage(1, "项目立项", "Project initiation", 0.05, 30, "search", "发现问题,提出需求",
          "分析项目,立项通过", "Project analysed, approved internally"),
    Stage(2, "初步接触", "First contact", 0.10, 30, "search", "分析研讨,确定预算",
          "上门拜访,搞定线人", "On-site visit, an insider (coach) secured"),
    Stage(3, "方案设计", "Solution design", 0.20, 30, "funnel", "项目立项,组建采购小组",
          "完成方案,获得信息", "Solution drafted, key information obtained"),
    Stage(4, "业绩展示", "Credentials demo", 0.30, 30, "funnel", "建立采购标准",
          "实力展示,技术倾向", "Strength shown, technical preference won"),
    Stage(5, "方案确认", "Solution confirmation", 0.50, 45, "funnel", "招标,初步筛选",
          "方案确认,技术通关", "Solution confirmed, technical approval"),
    Stage(6, "项目评估", "Project evaluation", 0.60, 30, "best", "确定首选供应商",
          "需求挖掘,高层倾向", "Needs explored, senior management leans to us"),
    Stage(7, "商务谈判", "Commercial negotiation", 0.80, 30, "best", "合同谈判",
          "明确条款,达成共识", "Terms clear, agreement reached"),
    Stage(8, "签约成交", "Signing", 1.00, None, "best", "签约",
          "签约完成,合作成功", "Contract signed"),
)

DEFAULT_TEAM: tuple[Person, ...] = (
    Person("D01", "周总", "全国", "销售部", "", 8),
    Person("S01", "王经理", "华东", "华东组", "D01", 5),
    Person("R01", "张伟", "华东", "华东组", "S01", 2),
    Person("R02", "李娜", "华东", "华东组", "S01", 2),
    Person("R03", "刘洋", "华东", "华东组", "S01", 2),
)

DEFAULT_PRODUCTS: tuple[tuple[str, str], ...] = (
    ("数控机床", "VMC-850"),
    ("数控机床", "HMC-630"),
    ("激光切割机", "LC-3015"),
    ("检测设备", "CMM-700"),
    ("自动化产线", "AL-200"),
    ("售后服务", "SVC-年保"),
)

DEFAULT_TEAM_EN: tuple[Person, ...] = (
    Person("D01", "Director Zhou", "National", "Sales", "", 8),
    Person("S01", "Manager Wang", "East", "East team", "D01", 5),
    Person("R01", "Zhang Wei", "East", "East team", "S01", 2),
    Person("R02", "Li Na", "East", "East team", "S01", 2),
    Person("R03", "Liu Yang", "East", "East team", "S01", 2),
)

DEFAULT_PRODUCTS_EN: tuple[tuple[str, str], ...] = (
    ("CNC machine", "VMC-850"),
    ("CNC machine", "HMC-630"),
    ("Laser cutter", "LC-3015"),
    ("Inspection", "CMM-700"),
    ("Automation line", "AL-200"),
    ("Service", "SVC-annual"),
)

# The lost-deal report's reason categories (editable in the playbook's Lost reasons sheet).
DEFAULT_LOST_REASONS: tuple[tuple[str, str], ...] = (
    ("价格", "Price"),
    ("产品不符合需求", "Product fit"),
    ("客户关系", "Relationship"),
    ("时机", "Timing"),
    ("预算取消", "Budget withdrawn"),
    ("竞争对手实力", "Competitor's strength"),
    ("付款条件", "Payment terms"),
    ("其他", "Other"),
)

SETTING_DEFAULTS: dict[str, tuple[Any, str, str]] = {
    "small_deal_threshold": (50000, "小额快单门槛:低于此金额的商机不进入漏斗管理",
                             "Small-deal threshold: deals below it stay out of the funnel"),
    "reminder_lead_days": (7, "阶段时限到期前提前几天提醒", "Days before a stage limit runs out to remind"),
    "currency": ("CNY", "货币", "Currency"),
    "sudden_win_days": (28, "在前两个阶段停留至少这么多天后直接签约,视为“突然赢单”",
                        "Days at the first two stages after which a direct win is flagged as sudden"),
    "probability_tolerance": (0.25, "填报赢率与阶段赢率相差超过此值时提示", "Gap between a typed win rate and "
                              "the stage's probability that is flagged"),
    "late_amount_change": (0.3, "最佳状态的商机金额一次变化超过此比例时提示",
                           "Share by which a best-state deal's amount may change in one save before it is flagged"),
    "slip_saves": (3, "预计签约日期连续推迟多少次时提示", "Saves in a row that push the signing date back before it is flagged"),
    "idle_days": (21, "多少天没有工作日志提到某商机时提示", "Days without a daily-log entry about a deal before it is flagged"),
    "max_rows": (DEFAULT_MAX_ROWS, "每个工作表最多读取的数据行数;超过的文件被拒绝(too-many-rows)",
                 "Rows per sheet; a file with more is refused (too-many-rows)"),
    "max_cells": (DEFAULT_MAX_CELLS, "每个工作簿最多读取的单元格数(各表从 A1 到最远单元格的区域之和);超过的文件被拒绝",
                  "Cells per workbook (each sheet from A1 to its farthest cell, summed); a file with more is refused"),
    "max_amount": (10_000_000_000, "单个金额的上限(默认 100 亿,按工作区货币);“产品”表的“金额上限”列可按类别覆盖",
                   "Largest amount accepted in one cell (default 10 billion in the workspace currency); the "
                   "Products sheet's Amount limit column overrides it per category"),
    "lost_report_days": (7, "商机标为已丢单后,多少天内要交丢单报告", "Days after a deal is marked lost within "
                         "which its lost-deal report is due"),
    "contract_days": (7, "赢单后多少天内周报中要有合同行(反之亦然),否则提示核对", "Days after a win within which "
                      "a weekly report must show its contract (and a contract its won deal) before they are flagged"),
    "history_days": (365, "转化率、各阶段天数和赢率校准统计最近多少天内出现的商机", "Days back the conversion, "
                     "days-per-stage and calibration figures look (deals first seen since)"),
    "calibration_min_deals": (10, "某阶段至少有多少个已结束的商机,才比较历史赢率与作战手册赢率", "Closed deals a stage "
                              "needs before its history is compared with the playbook's probability"),
    "calibration_tolerance": (0.15, "历史赢率与作战手册赢率相差超过此值时提示", "Gap between the history's win rate "
                              "and the playbook's probability that is flagged"),
    "target_tolerance": (0.01, "团队/区域目标与成员目标之和相差超过此比例时提示", "Share by which a team or region "
                         "target may differ from the sum of its members' before it is flagged"),
    "help_answer_days": (2, "困难报警多少天无人解答时报警(help-unanswered)",
                         "Days a help request may go unanswered before help-unanswered"),
    "reminder_days": (3, "提前几天提醒约见、生日、周年和回访", "Days ahead to remind of appointments, birthdays, "
                      "anniversaries and revisits"),
    "influence_stage": (5, "影响者阶段:超过此阶段的商机,客户卡必须有决定者(no-decider)",
                        "The influence stage: a deal past it needs a decider on its customer card (no-decider)"),
    "activity_window_days": (28, "勤奋与能力排名、忙碌但少转化(busy-not-converting)统计最近多少天的工作日志",
                             "Days of daily log behind the activity ranking and busy-not-converting"),
    "date_horizon_years": (5, "签约/交货日期距今超过这么多年时提示核实", "Signing or delivery dates further away than "
                           "this many years are flagged for checking"),
}


@dataclass(frozen=True)
class Playbook:
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    team: tuple[Person, ...] = DEFAULT_TEAM
    targets: tuple[Target, ...] = ()
    products: tuple[tuple[str, str], ...] = DEFAULT_PRODUCTS
    settings: dict[str, Any] = field(default_factory=lambda: {k: v[0] for k, v in SETTING_DEFAULTS.items()})
    amount_limits: tuple[tuple[str, float], ...] = ()  # (category, limit) from the Products sheet
    lost_reasons: tuple[str, ...] = tuple(zh for zh, _ in DEFAULT_LOST_REASONS)
    target_weights: tuple[tuple[int, float], ...] = ()  # (month 1-12, weight) from the Target weights sheet
    budgets: tuple[Budget, ...] = ()  # the Budgets sheet
    questions: tuple[Question, ...] = DEFAULT_QUESTIONS  # the Questions sheet
    activity_types: tuple[ActivityType, ...] = DEFAULT_ACTIVITY_TYPE_LIST  # the Activity types sheet
    levels: tuple[Level, ...] = DEFAULT_LEVELS  # the Levels sheet: what each permission level sees

    @classmethod
    def default(cls, lang: str = "zh-CN") -> Playbook:
        """The starting playbook of a new workspace: sample team and products in its language."""
        if lang == "en":
            return cls(team=DEFAULT_TEAM_EN, products=DEFAULT_PRODUCTS_EN,
                       lost_reasons=tuple(en for _, en in DEFAULT_LOST_REASONS))
        return cls()

    # --- look-ups ------------------------------------------------------------------------
    def stage(self, order: int) -> Stage:
        return self.stages[order - 1]

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(c for c, _ in self.products))

    def person(self, pid: str) -> Person | None:
        return next((p for p in self.team if p.id == pid), None)

    @property
    def reps(self) -> list[Person]:
        """People who fill sales workbooks: everybody who supervises nobody."""
        bosses = {p.supervisor for p in self.team}
        return [p for p in self.team if p.id not in bosses]

    def level(self, n: int) -> Level:
        """What permission level ``n`` sees (level 1's reach for a level the playbook does not list)."""
        return next((lv for lv in self.levels if lv.level == n), None) or next(
            (lv for lv in self.levels if lv.level == 1), DEFAULT_LEVELS[0])

    @property
    def small_deal_threshold(self) -> float:
        return float(self.settings.get("small_deal_threshold", 0) or 0)

    @property
    def reminder_lead_days(self) -> int:
        return int(self.settings.get("reminder_lead_days", 7) or 0)

    @property
    def currency(self) -> str:
        return str(self.settings.get("currency", "CNY"))

    # --- limits on what a file may hold ----------------------------------------------------
    def _limit(self, key: str) -> Any:
        value = self.settings.get(key)
        return SETTING_DEFAULTS[key][0] if value in (None, "") else value

    @property
    def max_rows(self) -> int:
        return int(self._limit("max_rows"))

    @property
    def max_cells(self) -> int:
        return int(self._limit("max_cells"))

    @property
    def date_horizon_years(self) -> int:
        return int(self._limit("date_horizon_years"))

    def amount_limit(self, category: str | None = None) -> float:
        """The largest amount one cell may hold: the category's limit (Products sheet) or ``max_amount``."""
        if category:
            folded = str(category).strip().casefold()
            for cat, limit in self.amount_limits:
                if cat.casefold() == folded:
                    return float(limit)
        return float(self._limit("max_amount"))

    # --- Choices protocol, for the validators ----------------------------------------------
    def resolve(self, kind: str, text: str) -> Any | None:
        t = text.strip()
        if kind == "stage":
            m = re.match(r"^(\d+)(?:\s*[.、:]?\s*(.*))?$", t)
            if m and m.group(1) and 1 <= int(m.group(1)) <= len(self.stages):
                return int(m.group(1))
            folded = t.casefold()
            for s in self.stages:
                if folded in (s.name_zh.casefold(), s.name_en.casefold()):
                    return s.order
            return None
        if kind == "category":
            folded = t.casefold()
            return next((c for c in self.categories if c.casefold() == folded), None)
        if kind == "status":
            return choice_key(STATUS_CHOICES, t)
        if kind == "funnel_state":
            return choice_key(FUNNEL_STATES, t)
        if kind == "decision":
            return choice_key(DECISION_CHOICES, t)
        if kind == "side":
            return choice_key(SIDE_CHOICES, t)
        if kind == "role":
            return choice_key(BUYING_ROLES, t)
        if kind == "yesno":
            return choice_key(YESNO_CHOICES, t)
        if kind == "lost_reason":
            folded = t.casefold()
            return next((r for r in self.lost_reasons if r.casefold() == folded), None)
        if kind == "deal":  # a lost-deal report's customer: any text (the drop-down only suggests)
            return t or None
        if kind == "waiting":  # a decision's deal: a drop-down label ending with the id, or an id typed
            from ..outputs.waiting import deal_id

            return deal_id(t) or None
        return None

    def allowed(self, kind: str, lang: str) -> str:
        return " / ".join(self.choice_list(kind, lang))

    def choice_list(self, kind: str, lang: str) -> list[str]:
        if kind == "stage":
            return [s.name(lang) for s in self.stages]
        if kind == "category":
            return self.categories
        if kind == "status":
            return [choice_label(STATUS_CHOICES, k, lang) for k in STATUS_CHOICES]
        if kind == "funnel_state":
            return [choice_label(FUNNEL_STATES, k, lang) for k in FUNNEL_STATES]
        if kind == "decision":
            return [choice_label(DECISION_CHOICES, k, lang) for k in DECISION_CHOICES]
        if kind == "side":
            return [choice_label(SIDE_CHOICES, k, lang) for k in SIDE_CHOICES]
        if kind == "role":
            return [choice_label(BUYING_ROLES, k, lang) for k in BUYING_ROLES]
        if kind == "tick":
            return [TICK]
        if kind == "lost_reason":
            return list(self.lost_reasons)
        if kind == "yesno":
            return [choice_label(YESNO_CHOICES, k, lang) for k in YESNO_CHOICES]
        return []

    # --- targets -----------------------------------------------------------------------------
    def monthly_targets(self) -> dict[tuple[str, str], float]:
        """(owner, 'YYYY-MM') -> amount; year and quarter targets spread over their months by the
        Target weights sheet (evenly without it, or when the period's weights add up to nothing)."""
        out: dict[tuple[str, str], float] = {}
        weights = dict(self.target_weights)
        for t in self.targets:
            months = period_months(t.period) or []
            w = [weights.get(int(m[5:]), 1.0) for m in months]  # a month without a row weighs 1
            if sum(w) <= 0:
                w = [1.0] * len(months)
            for m, share in zip(months, w, strict=True):
                out[(t.owner, m)] = out.get((t.owner, m), 0.0) + t.amount * share / sum(w)
        return out

    # --- persistence ---------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Playbook:
        d = json.loads(text)
        return cls(
            stages=tuple(Stage(**s) for s in d["stages"]),
            team=tuple(Person(**p) for p in d["team"]),
            targets=tuple(Target(**t) for t in d["targets"]),
            products=tuple(tuple(p) for p in d["products"]),  # type: ignore[misc]
            settings=d["settings"],
            amount_limits=tuple((c, float(v)) for c, v in d.get("amount_limits", ())),
            **({"lost_reasons": tuple(d["lost_reasons"])} if d.get("lost_reasons") else {}),
            **({"target_weights": tuple((int(m), float(w)) for m, w in d["target_weights"])}
               if d.get("target_weights") else {}),
            **({"budgets": tuple(Budget(**b) for b in d["budgets"])} if d.get("budgets") else {}),
            **({"questions": tuple(Question(**q) for q in d["questions"])} if d.get("questions") else {}),
            **({"activity_types": tuple(ActivityType(**a) for a in d["activity_types"])}
               if d.get("activity_types") else {}),
            **({"levels": tuple(Level(**lv) for lv in d["levels"])} if d.get("levels") else {}),
        )


_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{1,2})))?$", re.IGNORECASE)


def period_months(period: str) -> list[str] | None:
    """'2026' -> 12 months, '2026-Q4' -> 3, '2026-11' -> 1; None when not a period."""
    m = _PERIOD.match(period.strip())
    if not m:
        return None
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        return [f"{year}-{mm:02d}" for mm in range(3 * q - 2, 3 * q + 1)]
    if m.group(3):
        mm = int(m.group(3))
        return [f"{year}-{mm:02d}"] if 1 <= mm <= 12 else None
    return [f"{year}-{mm:02d}" for mm in range(1, 13)]


def period_text(value: Any) -> str | None:
    """The period a date or a number in a period cell stands for, or None for text.

    Excel turns ``2026-11`` typed into a General cell into the date 2026-11-01: a date (or a
    date and time) is its month. A whole number such as 2026 is that year.
    """
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))
    return None


def _supervisor_issues(rows: list, ids: set[str], label: str) -> list[Issue]:
    """An unknown supervisor id; self-supervision and cycles (S01 → R01 → S01), at each member's cell."""
    issues = []
    boss: dict[str, str] = {}
    cells: dict[str, tuple[str, str]] = {}
    for sheet, r in rows:
        sup, pid = r.values["supervisor"], r.values["id"]
        if not sup:
            continue
        if sup not in ids:
            issues.append(Issue("unknown-supervisor", label, sheet, r.cells["supervisor"], {"value": sup}))
            continue
        boss[pid], cells[pid] = sup, (sheet, r.cells["supervisor"])
    in_cycle: set[str] = set()
    for start in boss:
        seen: list[str] = []
        cur = start
        while cur in boss and cur not in seen and cur not in in_cycle:
            seen.append(cur)
            cur = boss[cur]
        if cur in seen:  # the chain came back to itself: the members are from cur on
            in_cycle.update(seen[seen.index(cur):])
    for _sheet, r in rows:
        pid = r.values["id"]
        if pid in in_cycle and pid in cells:
            chain, cur = [pid], boss[pid]
            while cur != pid:
                chain.append(cur)
                cur = boss[cur]
            issues.append(Issue("supervisor-cycle", label, *cells[pid], {"cycle": " → ".join([*chain, pid])}))
    return issues


def month_end(month: str) -> int:
    y, m = (int(x) for x in month.split("-"))
    return calendar.monthrange(y, m)[1]


# --------------------------------------------------------------------------------------------
# Writing playbook.xlsx
# --------------------------------------------------------------------------------------------
def write_playbook(path: Path, playbook: Playbook, lang: str) -> None:
    """Write the playbook workbook managers edit (no sheet protection: it is theirs)."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": "sheetsales playbook", "created": FIXED_CREATED})
    fmt = Formats(wb)
    sheets = {t.key: wb.add_worksheet(t.name(lang)) for t in PLAYBOOK_TABLES + OPTIONAL_PLAYBOOK_TABLES}
    sources = write_list_sheet(wb, "_lists", {"funnel_state": playbook.choice_list("funnel_state", lang),
                                              "reach": [choice_label(REACH_CHOICES, k, lang) for k in REACH_CHOICES],
                                              "yesno": playbook.choice_list("yesno", lang)})
    stages = [
        {**asdict(s), "funnel_state": choice_label(FUNNEL_STATES, s.funnel_state, lang)} for s in playbook.stages
    ]
    team = [asdict(p) for p in playbook.team]
    targets = [asdict(t) for t in playbook.targets]
    limits = dict(playbook.amount_limits)
    products = [{"category": c, "model": m, "amount_limit": limits.pop(c, None)} for c, m in playbook.products]
    settings = [
        {"key": k, "value": playbook.settings.get(k, v[0]), "note": v[2] if lang == "en" else v[1]}
        for k, v in SETTING_DEFAULTS.items()
    ]
    lost_reasons = [{"reason": r, "note": ""} for r in playbook.lost_reasons]
    data = {"stages": stages, "team": team, "targets": targets, "products": products, "settings": settings,
            "lost_reasons": lost_reasons,
            "target_weights": [{"month": m, "weight": w} for m, w in playbook.target_weights],
            "budgets": [asdict(b) for b in playbook.budgets],
            "questions": [{"no": q.no, "question_zh": q.zh, "question_en": q.en,
                           "rules_out": choice_label(YESNO_CHOICES, q.rules_out, lang) if q.rules_out else ""}
                          for q in playbook.questions],
            "activity_types": [{**asdict(a), "sales": TICK if a.sales else ""} for a in playbook.activity_types],
            "levels": [{**asdict(lv), "reach": choice_label(REACH_CHOICES, lv.reach, lang),
                        "named": TICK if lv.named else ""} for lv in playbook.levels]}
    for t in PLAYBOOK_TABLES + OPTIONAL_PLAYBOOK_TABLES:
        draw_table(wb, sheets[t.key], fmt, t, lang, sources=sources, data=data[t.key], protect=False)
    # Periods are text: typed into a General cell, Excel would turn 2026-11 into the date 2026-11-01.
    period = next(i for i, c in enumerate(TARGETS_TABLE.columns) if c.key == "period")
    sheets["targets"].set_column(period, period, TARGETS_TABLE.columns[period].width, fmt.input("text"))
    wb.close()


# --------------------------------------------------------------------------------------------
# Reading and validating playbook.xlsx
# --------------------------------------------------------------------------------------------
def _fold(_key: str, value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def read_playbook(path: Path, lang: str, label: str = "playbook.xlsx") -> tuple[Playbook | None, list[Issue]]:
    """The playbook in ``path``, or None with the issues that keep it from being used."""
    raw, issues = open_workbook(path, label)
    if raw is None:
        return None, issues
    choices = FixedChoices()
    records: dict[str, list] = {}
    periods: dict[int, str] = {}  # sheet row -> the period a date or a number in the period cell stands for
    for t in PLAYBOOK_TABLES + OPTIONAL_PLAYBOOK_TABLES:
        if t in OPTIONAL_PLAYBOOK_TABLES and not raw.sheet(t.zh, t.en):
            records[t.key] = []  # a playbook from before the sheet existed: the defaults hold
            continue
        rt, found = read_table(raw, t)
        issues += found
        if rt is None:
            records[t.key] = []
            continue
        if t.key == "targets":
            periods = {rr.row + 1: text for rr in rt.rows
                       if (text := period_text(rr.values.get("period"))) is not None}
        recs, found = validate_table(rt, t, label, choices, lang, normalise=_fold)
        issues += found
        records[t.key] = [(rt.sheet, r) for r in recs]

    stages = []
    stage_rows_bad = any(i.sheet == records["stages"][0][0] and i.severity == "error"
                         for i in issues) if records["stages"] else False
    for expected, (sheet, r) in enumerate(sorted(records["stages"], key=lambda x: x[1].values["order"]), 1):
        v = r.values
        if v["order"] != expected and not stage_rows_bad:  # a rejected row would shift every number
            issues.append(Issue("stage-order", label, sheet, r.cells["order"], {"value": v["order"]}))
        stages.append(Stage(v["order"], v["name_zh"], v["name_en"], v["probability"], v["limit_days"],
                            v["funnel_state"], v["customer_step"] or "", v["milestone_zh"] or "",
                            v["milestone_en"] or ""))
    if not stages:
        issues.append(Issue("missing-value", label, STAGES_TABLE.name(lang), "A4",
                            {"column": STAGES_TABLE.columns[0].label(lang)}))

    team = [Person(v["id"], v["name"], v["region"], v["team"], v["supervisor"] or "", v["level"],
                   v["email"] or "") for _, r in records["team"] for v in [r.values]]
    ids = {p.id for p in team}
    issues += _supervisor_issues(records["team"], ids, label)
    if not team:
        issues.append(Issue("missing-value", label, TEAM_TABLE.name(lang), "A4",
                            {"column": TEAM_TABLE.columns[0].label(lang)}))

    owners = ids | {p.team for p in team} | {p.region for p in team}
    targets = []
    for sheet, r in records["targets"]:
        v = r.values
        if v["owner"] not in owners:
            issues.append(Issue("unknown-person", label, sheet, r.cells["owner"],
                                {"column": TARGETS_TABLE.column("owner").label(lang), "value": v["owner"]}))
            continue
        period = periods.get(r.row, v["period"])
        if period_months(period) is None:
            issues.append(Issue("bad-period", label, sheet, r.cells["period"], {"value": v["period"]}))
            continue
        targets.append(Target(v["owner"], period, v["amount"]))

    products = tuple((r.values["category"], r.values["model"] or "") for _, r in records["products"])
    amount_limits: dict[str, float] = {}
    for _sheet, r in records["products"]:
        limit = r.values.get("amount_limit")
        if limit is not None:  # on several rows of one category, the smallest limit holds
            category = r.values["category"]
            amount_limits[category] = min(limit, amount_limits.get(category, limit))
    if not products:
        issues.append(Issue("missing-value", label, PRODUCTS_TABLE.name(lang), "A4",
                            {"column": PRODUCTS_TABLE.columns[0].label(lang)}))

    settings = {k: v[0] for k, v in SETTING_DEFAULTS.items()}
    for sheet, r in records["settings"]:
        key, value = r.values["key"], r.values["value"]
        if key in SETTING_DEFAULTS and key != "currency":
            try:
                number = float(value)
                if number < 0 or not math.isfinite(number):
                    raise ValueError
                settings[key] = int(number) if isinstance(SETTING_DEFAULTS[key][0], int) else number
            except ValueError:
                issues.append(Issue("wrong-type", label, sheet, r.cells["value"],
                                    {"column": key, "value": value,
                                     "expected": "a number ≥ 0" if lang == "en" else "≥ 0 的数字"}))
        else:
            settings[key] = value

    lost_reasons = tuple(dict.fromkeys(str(r.values["reason"]).strip() for _, r in records["lost_reasons"]))
    extra: dict[str, Any] = {"lost_reasons": lost_reasons} if lost_reasons else {}
    if not lost_reasons and lang == "en":
        extra["lost_reasons"] = tuple(en for _, en in DEFAULT_LOST_REASONS)
    weights = {int(r.values["month"]): float(r.values["weight"]) for _, r in records["target_weights"]}
    if weights:
        extra["target_weights"] = tuple(sorted(weights.items()))
    budgets = []
    for sheet, r in records["budgets"]:
        v = r.values
        if v["owner"] not in owners:
            issues.append(Issue("unknown-person", label, sheet, r.cells["owner"], {"column": "owner", "value": v["owner"]}))
            continue
        period = period_text(v["period"]) or str(v["period"]).strip()
        if period_months(period) is None:
            issues.append(Issue("bad-period", label, sheet, r.cells["period"], {"value": v["period"]}))
            continue
        budgets.append(Budget(v["owner"], period, v["travel"], v["entertainment"], v["other"]))
    if budgets:
        extra["budgets"] = tuple(budgets)
    questions = tuple(Question(r.values["no"], r.values["question_zh"], r.values["question_en"],
                               r.values["rules_out"] or "") for _, r in sorted(records["questions"],
                                                                              key=lambda x: x[1].values["no"]))
    if questions:
        extra["questions"] = questions

    types = []
    for sheet, r in records["activity_types"]:
        v = r.values
        if not re.fullmatch(r"[A-Za-z0-9_]+", str(v["code"])):
            issues.append(Issue("wrong-type", label, sheet, r.cells["code"], {
                "column": ACTIVITY_TYPES_TABLE.column("code").label(lang), "value": v["code"],
                "expected": "letters, digits or _" if lang == "en" else "英文字母、数字或下划线"}))
            continue
        types.append(ActivityType(str(v["code"]), v["name_zh"], v["name_en"], float(v["weight"]), bool(v["sales"])))
    if types:
        extra["activity_types"] = tuple(types)
    levels = {r.values["level"]: Level(r.values["level"], r.values["reach"], bool(r.values["named"]),
                                       r.values["name_zh"] or "", r.values["name_en"] or "")
              for _, r in records["levels"]}
    if levels:  # a level the sheet leaves out keeps its default
        extra["levels"] = tuple(levels.get(lv.level, lv) for lv in DEFAULT_LEVELS)

    if any(i.severity == "error" for i in issues):
        return None, issues
    return Playbook(tuple(stages), tuple(team), tuple(targets), products, settings,
                    tuple(amount_limits.items()), **extra), issues
