"""Column specifications: the one source of truth for templates and readers.

A :class:`Table` describes one sheet of rows (its title, header row and columns);
a :class:`Form` describes a sheet of labelled single values. ``templates.py``
draws workbooks from these specs and ``read.py``/``validate.py`` read the same
workbooks back with them, so the two can never disagree.

Each label exists in zh-CN and en; readers accept either language, so a
workbook keeps working when a workspace switches language.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# Layout shared by every table sheet: title, hint, header, then data.
TITLE_ROW = 1
HINT_ROW = 2
HEADER_ROW = 3
FIRST_DATA_ROW = 4

META_SHEET = "_sheetsales"
LISTS_SHEET = "_lists"


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = "text"  # text | int | number | money | percent | date | choice | tick
    required: bool = False
    choices: str = ""  # stage | category | status | funnel_state | decision | tick
    width: float = 14
    help_zh: str = ""
    help_en: str = ""
    low: float | None = None
    high: float | None = None
    strict: bool = True  # False: the drop-down suggests, any other text may still be typed

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_zh


@dataclass(frozen=True)
class Table:
    key: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    title_zh: str = ""
    title_en: str = ""
    hint_zh: str = ""
    hint_en: str = ""
    rows: int = 200  # rows prepared for input (validation, unlocked)
    key_columns: tuple[str, ...] = ()  # a row is a duplicate when these repeat
    duplicate_code: str = "duplicate-row"  # or "duplicate-id" when the key is an id

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def hint(self, lang: str) -> str:
        return self.hint_en if lang == "en" else self.hint_zh

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


@dataclass(frozen=True)
class Field:
    key: str
    zh: str
    en: str
    kind: str = "text"
    prefilled: bool = False  # written by sheetsales, locked
    height: float = 15

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Form:
    key: str
    zh: str
    en: str
    fields: tuple[Field, ...]
    title_zh: str = ""
    title_en: str = ""

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


@dataclass(frozen=True)
class TemplateSpec:
    kind: str
    version: int
    zh: str
    en: str
    sheets: tuple[Table | Form, ...]

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def table(self, key: str) -> Table:
        return next(s for s in self.sheets if isinstance(s, Table) and s.key == key)


# Fixed choice lists (the stage and category lists come from the playbook).
STATUS_CHOICES: dict[str, tuple[str, str]] = {
    "open": ("跟进中", "open"),
    "won": ("已签约", "won"),
    "lost": ("已丢单", "lost"),
}
FUNNEL_STATES: dict[str, tuple[str, str]] = {
    "search": ("搜寻状态", "search"),
    "funnel": ("进入漏斗", "in funnel"),
    "best": ("最佳状态", "best"),
}


DECISION_CHOICES: dict[str, tuple[str, str]] = {
    "keep": ("保留", "keep"),
    "return": ("退回", "return"),
    "reassign": ("转派", "reassign"),
    "extend": ("延期", "extend"),
    "close": ("关闭", "close"),
}
TICK = "✓"


def choice_label(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    zh, en = table[key]
    return en if lang == "en" else zh


def choice_key(table: dict[str, tuple[str, str]], text: str) -> str | None:
    t = text.strip().casefold()
    for key, (zh, en) in table.items():
        if t in (key, zh.casefold(), en.casefold()):
            return key
    return None


# --------------------------------------------------------------------------------------------
# MPC list (MPC一览表): one living workbook per rep, updated every week.
# --------------------------------------------------------------------------------------------
MPC_BASE = Table(
    key="mpc",
    zh="MPC一览表",
    en="MPC list",
    title_zh="MPC一览表(重点潜在客户)",
    title_en="MPC list (major potential customers)",
    hint_zh="每个商机一行,每周更新。白色单元格可填写;阶段、产品类别、状态请用下拉列表。已签约或丢单请改“状态”,不要删除行。",
    hint_en="One row per deal, updated every week. Fill the white cells; use the drop-downs for stage, "
    "category and status. Mark won or lost deals in Status instead of deleting rows.",
    rows=300,
    key_columns=("customer", "category"),
    columns=(
        Column("no", "NO.", "No.", "int", width=6, help_zh="序号,可不填", help_en="Row number, optional"),
        Column("category", "产品类别", "Product category", "choice", True, "category", 16,
               "从下拉列表选择产品类别", "Pick the product category from the list"),
        Column("model", "型号", "Model", width=14),
        Column("customer", "客户名称", "Customer", required=True, width=28,
               help_zh="客户单位全称", help_en="The customer's full legal name"),
        Column("amount", "预计合同金额", "Expected amount", "money", True, width=16, low=0,
               help_zh="预计合同金额(元),填数字", help_en="Expected contract amount, a number"),
        Column("sign_date", "预计签约日期", "Expected signing date", "date", True, width=14,
               help_zh="格式 yyyy-mm-dd", help_en="Format yyyy-mm-dd"),
        Column("delivery_date", "预计交货日期", "Expected delivery date", "date", width=14,
               help_zh="格式 yyyy-mm-dd", help_en="Format yyyy-mm-dd"),
        Column("stage", "销售阶段", "Sales stage", "choice", True, "stage", 14,
               "从下拉列表选择当前销售阶段", "Pick the current sales stage from the list"),
        Column("win_rate", "赢率", "Win rate", "percent", width=9, low=0, high=1,
               help_zh="你估计的赢率,0%–100%", help_en="Your estimate, 0%–100%"),
        Column("status", "状态", "Status", "choice", False, "status", 10,
               "跟进中 / 已签约 / 已丢单", "open / won / lost"),
        Column("detail", "详细状况", "Detailed status", width=36),
        Column("owner_name", "项目负责人", "Project owner", width=12),
        Column("resources", "尚需资源", "Resources needed", width=24),
        Column("distributor", "经销商", "Distributor", width=16),
    ),
)



def milestone_column(n: int) -> Column:
    """The tick column for the milestone that completes stage ``n`` (its text comes from the playbook)."""
    return Column(f"m{n}", f"里程碑{n}", f"Milestone {n}", "tick", width=8, choices="tick")


def mpc_table(stages: int = 8) -> Table:
    """The MPC list for a playbook of ``stages`` stages: one milestone tick per stage but the last
    (the last stage's milestone is the signed contract itself)."""
    return replace(MPC_BASE, columns=MPC_BASE.columns + tuple(milestone_column(n) for n in range(1, stages)))


MPC_TABLE = mpc_table()  # for the default eight stages


def _tick_table(key: str, zh: str, en: str, title_zh: str, title_en: str, hint_zh: str, hint_en: str,
                items: tuple[tuple[str, str, str], ...], kind: str) -> Table:
    return Table(
        key=key, zh=zh, en=en, title_zh=title_zh, title_en=title_en, hint_zh=hint_zh, hint_en=hint_en,
        rows=300, key_columns=("customer", "category"),
        columns=(
            Column("customer", "客户名称", "Customer", required=True, width=28,
                   help_zh="与 MPC 一览表中的客户名称一致", help_en="As in the MPC list"),
            Column("category", "产品类别", "Product category", "choice", True, "category", 16),
        ) + tuple(Column(k, zh_, en_, kind, width=12 if kind == "text" else 9,
                         choices="tick" if kind == "tick" else "") for k, zh_, en_ in items),
    )


QUALIFICATION_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("q1", "Q1 需求明确(疼痛或收获)", "Q1 Clear need (pain or gain)"),
    ("q2", "Q2 符合我们的客户类型", "Q2 Fits our customer type"),
    ("q3", "Q3 有无排除我们的硬指标", "Q3 Hard constraint ruling us out"),
    ("q4", "Q4 预算", "Q4 Budget"),
    ("q5", "Q5 财务状况与付款记录", "Q5 Financial health and payment record"),
    ("q6", "Q6 何时采购", "Q6 When will they buy"),
    ("q7", "Q7 有无教练(线人)", "Q7 Is there a coach (insider)"),
    ("q8", "Q8 采购量与我方最低量", "Q8 Likely volume vs our minimum"),
    ("q9", "Q9 可达利润与我方底线", "Q9 Achievable margin vs our floor"),
)

QUALIFICATION_TABLE_V2 = _tick_table(
    "qualification", "资格审查", "Qualification", "商机资格审查:九个问题", "Qualifying the deal: the nine questions",
    "每个进入漏斗(方案设计及以后)的商机都要回答全部九个问题,写下答案。",
    "Every deal past the search state needs all nine questions answered: write the answers.",
    QUALIFICATION_QUESTIONS, "text")

YESNO_CHOICES: dict[str, tuple[str, str]] = {"yes": ("是", "yes"), "no": ("否", "no")}
# The screening questions answered yes/no beside their free text (MPC template v3): the answer that rules a
# deal out is the playbook's (Questions sheet), e.g. a hard constraint against us: yes; no budget: no.
QUALIFICATION_SCREENS: tuple[tuple[str, str, str], ...] = (
    ("x3", "Q3 硬指标排除我们?", "Q3 Rules us out?"),
    ("x4", "Q4 有预算?", "Q4 Budget?"),
    ("x8", "Q8 采购量达到最低量?", "Q8 Volume at our minimum?"),
    ("x9", "Q9 利润达到底线?", "Q9 Margin at our floor?"),
)

QUALIFICATION_TABLE = replace(
    QUALIFICATION_TABLE_V2,
    hint_zh="每个进入漏斗(方案设计及以后)的商机都要回答全部九个问题,写下答案;右侧的是/否列用于筛选,"
    "作战手册规定的排除答案会使商机不合格。",
    hint_en="Every deal past the search state needs all nine questions answered: write the answers. The yes/no "
    "columns on the right screen the deal: the playbook's ruling-out answer disqualifies it.",
    columns=QUALIFICATION_TABLE_V2.columns + tuple(
        Column(k, zh, en, "choice", False, "yesno", 12, "是 / 否", "yes / no") for k, zh, en in QUALIFICATION_SCREENS))

C931_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("c1", "C1 我方流程与要点", "C1 Our process and key points"),
    ("c2", "C2 客户采购流程与时间表", "C2 Buying process and timetable"),
    ("c3", "C3 采购组织、人员与关系", "C3 Buying organisation and people"),
    ("c4", "C4 决策方式", "C4 Decision mode"),
    ("c5", "C5 确切需求与关注点", "C5 Exact needs and focus"),
    ("c6", "C6 资金与付款条件", "C6 Funds and payment terms"),
    ("c7", "C7 竞争对手及其报价", "C7 Competitors and their offers"),
    ("c8", "C8 与对手的SWOT", "C8 SWOT against them"),
    ("c9", "C9 我方策略", "C9 Our strategy"),
    ("f1", "F1 决策者综合排名第一", "F1 Ranked first overall"),
    ("f2", "F2 性价比第一", "F2 First on price/performance"),
    ("f3", "F3 关系最近", "F3 Closest relationship"),
    ("w1", "W1 关键决策者已选择我们", "W1 Key decision maker chose us"),
)

C931_TABLE = _tick_table(
    "c931", "C931评估", "C931", "C931 赢单评估:9 个清楚、3 个第一、1 个赢", "C931: 9 Clear, 3 First, 1 Win",
    "已做到的打 ✓。8C+1F 及以上,赢率才能报 60% 以上。",
    "Tick what is true. Only 8C+1F or better supports a win rate of 60% or more.",
    C931_ITEMS, "tick")

MPC_SPEC = TemplateSpec(kind="mpc", version=3, zh="MPC一览表", en="MPC list",  # 3: the yes/no screening columns
                        sheets=(MPC_TABLE, QUALIFICATION_TABLE, C931_TABLE))

# --------------------------------------------------------------------------------------------
# Decisions (决策): a supervisor's answers on confiscated and dropped deals.
# --------------------------------------------------------------------------------------------
DECISIONS_TABLE = Table(
    key="decisions",
    zh="决策",
    en="Decisions",
    title_zh="主管决策:被没收或从清单消失的商机",
    title_en="Supervisor's decisions on confiscated or dropped deals",
    hint_zh="从“商机编号”的下拉列表选择等待你决定的商机(你的反馈表第一页也列出它们)。保留=自己跟进;退回=还给原销售;"
    "转派=交给他人;延期=再给 N 天;关闭=不再跟进。",
    hint_en="Pick the deal from the drop-down of the deals waiting for you (also on your feedback's first sheet). "
    "keep = work it yourself; return = give it back; reassign = give it to someone else; extend = N more days; "
    "close = stop.",
    rows=200,
    columns=(
        Column("deal", "商机编号", "Deal", "choice", True, "waiting", 64,
               "从下拉列表选择等待你决定的商机(客户 · 金额 · 阶段 · 天数 · 原因 · 编号);也可输入商机编号",
               "Pick a deal waiting for you (customer · amount · stage · days · why · id); an id may also be typed",
               strict=False),
        Column("decision", "决定", "Decision", "choice", True, "decision", 10),
        Column("to", "转派给", "Reassign to", width=12, help_zh="转派时填人员编号", help_en="A person id, for reassign"),
        Column("days", "延期天数", "Extension days", "int", width=10, low=1, high=365),
        Column("reason", "理由", "Reason", width=40),
        Column("date", "日期", "Date", "date", width=12),
    ),
)

# Version 2: the Deal column offers the deals waiting for the supervisor (waiting.py); version 1's
# typed ids are read the same way.
DECISIONS_SPEC = TemplateSpec(kind="decisions", version=2, zh="决策", en="Decisions", sheets=(DECISIONS_TABLE,))

# --------------------------------------------------------------------------------------------
# Weekly report (工作周报): one file per ISO week.
# --------------------------------------------------------------------------------------------
WEEKLY_FORM = Form(
    key="weekly",
    zh="周报",
    en="Weekly report",
    title_zh="工作周报",
    title_en="Weekly report",
    fields=(
        Field("week", "周次", "Week", prefilled=True),
        Field("period", "日期范围", "Dates", prefilled=True),
        Field("rep", "销售工程师", "Sales engineer", prefilled=True),
        Field("manager", "区域经理", "Regional manager", prefilled=True),
        Field("key_events", "本周大事", "Key events this week", height=80),
        Field("market_news", "本周市场动态", "Market news this week", height=80),
    ),
)

# Version 1 of the weekly report's log (free text; still read from weekly reports handed out before version 2).
LOG_TABLE_V1 = Table(
    key="log",
    zh="工作日志",
    en="Daily log",
    title_zh="工作日志(每天的工作,记录后不可修改)",
    title_en="Daily log (one row per piece of work; recorded rows cannot be changed)",
    hint_zh="每项工作一行:选客户、写做了什么、填工时和费用。日期必须在本周之内。",
    hint_en="One row per piece of work: the customer, what was done, hours and cost. Dates must fall in this week.",
    rows=120,
    columns=(
        Column("date", "日期", "Date", "date", True, width=12, help_zh="本周内的日期", help_en="A date in this week"),
        Column("time", "时间", "Time", width=12, help_zh="如 09:00-11:30", help_en="e.g. 09:00-11:30"),
        Column("content", "工作内容", "Work content", required=True, width=34),
        Column("unit", "拜访/接待单位", "Unit visited/received", width=24),
        Column("person", "人员", "Person", width=12),
        Column("contact", "联系方式", "Contact", width=16),
        Column("result", "结果", "Result", width=24),
        Column("hours", "工时", "Hours", "number", width=8, low=0, high=24),
        Column("cost", "费用", "Cost", "money", width=10, low=0),
        Column("remarks", "备注", "Remarks", width=20),
    ),
)

# What reps tick in the daily log (活动类型): the playbook's Activity types sheet, these by default.
# (code, zh-CN, en, weight, sales work): the weight scores effectiveness (能力曲线); non-sales work
# (meetings, paperwork) counts in the hours and in the non-sales share.
DEFAULT_ACTIVITY_TYPES: tuple[tuple[str, str, str, float, bool], ...] = (
    ("call", "电话沟通", "Call", 1.0, True),
    ("visit", "上门拜访", "Visit", 3.0, True),
    ("demo", "演示参观", "Demo", 3.0, True),
    ("proposal", "方案报价", "Proposal", 2.0, True),
    ("negotiation", "商务谈判", "Negotiate", 3.0, True),
    ("signing", "签约回款", "Signing", 4.0, True),
    ("meeting", "内部会议", "Meeting", 0.5, False),
    ("admin", "行政事务", "Paperwork", 0.5, False),
)

LOG_BASE = Table(
    key="log",
    zh="工作日志",
    en="Daily log",
    title_zh="工作日志:点一下客户、打个勾、填个数字(记录后不可修改)",
    title_en="Daily log: pick the customer, tick what was done, enter the numbers (recorded rows cannot be changed)",
    hint_zh="每项工作一行:从下拉列表选客户或商机(新客户直接输入),在做过的活动下打 ✓,填工时和费用。"
    "日期必须在本周之内。已入库的行不能修改或删除,新的工作请另起一行。",
    hint_en="One row per piece of work: pick the customer or deal from the list (type a new customer), tick what "
    "was done, enter hours and cost. Dates must fall in this week. Recorded rows cannot be changed or deleted: "
    "add a new row for new work.",
    rows=120,
    columns=(
        Column("date", "日期", "Date", "date", True, width=12, help_zh="本周内的日期", help_en="A date in this week"),
        Column("deal", "客户/商机", "Customer / deal", "choice", False, "deal", 30,
               "从下拉列表选你的商机;新客户直接输入名称;内部事务留空",
               "Pick one of your deals; type a new customer's name; leave empty for internal work", strict=False),
        Column("hours", "工时", "Hours", "number", width=7, low=0, high=24, help_zh="小时,如 1.5",
               help_en="Hours, e.g. 1.5"),
        Column("cost", "费用", "Cost", "money", width=9, low=0, help_zh="元", help_en="In the workspace currency"),
        Column("content", "工作内容", "Work content", width=30),
        Column("time", "时间", "Time", width=12, help_zh="如 09:00-11:30", help_en="e.g. 09:00-11:30"),
        Column("unit", "拜访/接待单位", "Unit visited/received", width=20),
        Column("person", "人员", "Person", width=10),
        Column("contact", "联系方式", "Contact", width=14),
        Column("result", "结果", "Result", width=22),
        Column("remarks", "备注", "Remarks", width=16),
    ),
)


def activity_column(code: str, zh: str, en: str) -> Column:
    """The tick column of one activity type (its label is the type's name)."""
    return Column(f"t_{code}", zh, en, "tick", width=9, choices="tick", help_zh=f"做了“{zh}”打 ✓",
                  help_en=f"Tick when you did: {en}")


def log_table(types: tuple[tuple[str, str, str], ...] | None = None) -> Table:
    """The daily log for the playbook's activity types ((code, zh, en), in order): one tick column each,
    after the customer, before the numbers."""
    ticks = tuple(activity_column(code, zh, en) for code, zh, en in (
        types if types is not None else tuple(t[:3] for t in DEFAULT_ACTIVITY_TYPES)))
    base = LOG_BASE.columns
    return replace(LOG_BASE, columns=base[:2] + ticks + base[2:])


LOG_TABLE = log_table()  # for the default activity types

SIDE_CHOICES: dict[str, tuple[str, str]] = {
    "sales": ("销售工作", "sales"),
    "other": ("非销售工作", "non-sales"),
}

PLAN_TABLE = Table(
    key="plan",
    zh="下周计划",
    en="Next week's plan",
    title_zh="下周每日计划:销售工作与非销售工作分开列,各按重要性排序",
    title_en="Next week's daily plan: sales tasks apart from non-sales tasks, each most important first",
    hint_zh="下周每天的工作安排,每项一行:日期、销售/非销售、排序(1 最重要)、任务、客户或商机、预计工时。"
    "下周的工作日志会与这里对照。",
    hint_en="Next week's work, one task per row: day, sales or non-sales, rank (1 = most important), task, "
    "customer or deal, planned hours. Next week's log is compared with it.",
    rows=80,
    columns=(
        Column("day", "日期", "Day", "date", True, width=12, help_zh="下周内的日期", help_en="A day of next week"),
        Column("side", "类别", "Kind", "choice", True, "side", 12, "销售工作 / 非销售工作", "sales / non-sales"),
        Column("rank", "排序", "Rank", "int", width=7, low=1, high=99, help_zh="1 最重要",
               help_en="1 = most important"),
        Column("task", "任务", "Task", required=True, width=36),
        Column("deal", "客户/商机", "Customer / deal", "choice", False, "deal", 30,
               "销售工作:从下拉列表选商机或输入客户", "Sales tasks: pick the deal or type the customer", strict=False),
        Column("hours", "预计工时", "Planned hours", "number", width=9, low=0, high=24),
    ),
)

CONTRACTS_TABLE = Table(
    key="contracts",
    zh="签约合同",
    en="Contracts signed",
    title_zh="本周签约合同",
    title_en="Contracts signed this week",
    hint_zh="本周签下的每份合同一行。",
    hint_en="One row per contract signed this week.",
    rows=40,
    columns=(
        Column("customer", "客户名称", "Customer", required=True, width=28),
        Column("category", "产品类别", "Product category", "choice", True, "category", 16),
        Column("model", "型号", "Model", width=14),
        Column("quantity", "数量", "Quantity", "int", width=8, low=0),
        Column("amount", "金额", "Amount", "money", True, width=14, low=0),
        Column("remarks", "备注", "Remarks", width=24),
    ),
)

EXPENSES_TABLE = Table(
    key="expenses",
    zh="费用",
    en="Expenses",
    title_zh="本周费用",
    title_en="Expenses this week",
    hint_zh="差旅费、招待费、其他费用,填数字。",
    hint_en="Travel, entertainment and other costs, as numbers.",
    rows=40,
    columns=(
        Column("date", "日期", "Date", "date", True, width=12),
        Column("travel", "差旅费", "Travel", "money", width=12, low=0),
        Column("entertainment", "招待费", "Entertainment", "money", width=12, low=0),
        Column("other", "其他", "Other", "money", width=12, low=0),
        Column("remarks", "备注", "Remarks", width=30),
    ),
)

WEEKLY_SPEC = TemplateSpec(
    kind="weekly",
    version=2,  # 2: the log picks the deal and ticks activity types; the plan sheet for next week
    zh="工作周报",
    en="Weekly report",
    sheets=(WEEKLY_FORM, LOG_TABLE, CONTRACTS_TABLE, EXPENSES_TABLE, PLAN_TABLE),
)

# --------------------------------------------------------------------------------------------
# Lost-deal report (丢单报告): one living workbook per rep, one row per lost deal (seed 004).
# --------------------------------------------------------------------------------------------
LOST_TABLE = Table(
    key="lost",
    zh="丢单报告",
    en="Lost-deal report",
    title_zh="丢单报告(每个丢单一行)",
    title_en="Lost-deal report (one row per lost deal)",
    hint_zh="MPC 一览表中标为“已丢单”的商机,在作战手册规定的天数内在这里写报告:客户从下拉列表选(也可输入),"
    "写明中标方与我方的产品、价格、付款方式,选择丢单原因类别并分析原因。",
    hint_en="For each deal marked lost in your MPC list, write a row here within the playbook's days: pick the "
    "customer from the list (or type it), describe the winner's offer and ours, pick a reason and explain it.",
    rows=100,
    key_columns=("customer", "category"),
    columns=(
        Column("customer", "客户名称", "Customer", "choice", True, "deal", 28,
               "从下拉列表选择你的商机(与 MPC 一览表一致)", "Pick your deal from the list (as in the MPC list)",
               strict=False),
        Column("category", "产品类别", "Product category", "choice", True, "category", 16),
        Column("report_date", "报告日期", "Report date", "date", width=12, help_zh="格式 yyyy-mm-dd",
               help_en="Format yyyy-mm-dd"),
        Column("customer_region", "客户所在区域", "Customer region", width=12),
        Column("agent", "代理商名称", "Agent", width=16),
        Column("previous_equipment", "原设备情况", "Previous equipment", width=20),
        Column("purchase_method", "采购方式", "Purchase method", width=12,
               help_zh="如 公开招标、邀请招标、竞争性谈判、单一来源", help_en="e.g. open tender, invited tender, "
               "negotiation, single source"),
        Column("purchase_date", "采购时间", "Purchase date", "date", width=12),
        Column("winner", "中标厂家", "Winner (maker)", width=16, help_zh="中标/成交的竞争对手",
               help_en="The competitor who won"),
        Column("winner_model", "中标产品型号", "Winner's model", width=14),
        Column("winner_config", "中标产品配置", "Winner's configuration", width=18),
        Column("winner_price", "中标价格", "Winner's price", "money", width=14, low=0),
        Column("winner_terms", "中标付款方式", "Winner's payment terms", width=16),
        Column("our_model", "我司产品型号", "Our model", width=14),
        Column("our_config", "我司产品配置", "Our configuration", width=18),
        Column("our_price", "我司价格", "Our price", "money", width=14, low=0),
        Column("our_terms", "我司付款方式", "Our payment terms", width=16),
        Column("others", "其他竞争对手", "Other competitors", width=28,
               help_zh="厂家、型号、配置、价格、付款方式", help_en="Maker, model, configuration, price, payment terms"),
        Column("reason", "丢单原因类别", "Reason", "choice", True, "lost_reason", 14,
               "从下拉列表选择(作战手册中的丢单原因)", "Pick from the list (the playbook's lost reasons)"),
        Column("analysis", "丢单原因分析", "Why we lost", required=True, width=40),
        Column("remarks", "备注", "Remarks", width=20),
    ),
)

LOST_SPEC = TemplateSpec(kind="lost", version=1, zh="丢单报告", en="Lost-deal report", sheets=(LOST_TABLE,))

# --------------------------------------------------------------------------------------------
# Help requests (困难报警): a person's own requests and their answers to others' requests.
# --------------------------------------------------------------------------------------------
HELP_REQUESTS_TABLE = Table(
    key="help_requests",
    zh="我的求助",
    en="My requests",
    title_zh="困难报警:我卡住的商机",
    title_en="Help requests: the deals I am stuck on",
    hint_zh="每个求助一行,编号自己定(1、2、3…),同事按“你的编号-求助编号”(如 R01-3)回答。"
    "某个同事的方法有效时,在“方法有效”填他的人员编号:求助随即关闭,计时停止。",
    hint_en="One row per request, numbered by you (1, 2, 3 …); colleagues answer it as <your id>-<no.> "
    "(e.g. R01-3). When a colleague's method works, put their person id under Method effective: the "
    "request closes and its clock stops.",
    rows=100,
    key_columns=("no",),
    duplicate_code="duplicate-id",
    columns=(
        Column("no", "编号", "No.", "int", True, width=7, low=1, high=9999,
               help_zh="你的求助编号,1、2、3…", help_en="Your request number, 1, 2, 3 …"),
        Column("customer", "客户名称", "Customer", required=True, width=28,
               help_zh="与 MPC 一览表中的客户名称一致", help_en="As in your MPC list"),
        Column("category", "产品类别", "Product category", "choice", False, "category", 16,
               "同一客户有多个商机时填写", "When the customer has several deals"),
        Column("reason", "困难原因", "What is wrong", required=True, width=40),
        Column("tried", "已尝试的方法", "What was tried", width=36),
        Column("keyword", "关键词", "Keyword", width=14, help_zh="如 价格、竞争、关系", help_en="e.g. price, competitor"),
        Column("effective", "方法有效", "Method effective", width=12,
               help_zh="填写方法有效的解答人的人员编号", help_en="The person id of the answer that worked"),
        Column("date", "日期", "Date", "date", width=12),
    ),
)

HELP_ANSWERS_TABLE = Table(
    key="help_answers",
    zh="我的解答",
    en="My answers",
    title_zh="我对同事求助的分析与对策",
    title_en="My analyses of colleagues' requests",
    hint_zh="求助编号见你的反馈表“可解答的求助”。每个求助一行,可随时补充。",
    hint_en="Request numbers are in your feedback (Requests you could answer). One row per request; add to it any time.",
    rows=100,
    key_columns=("request",),
    columns=(
        Column("request", "求助编号", "Request", required=True, width=12, help_zh="如 R01-3", help_en="e.g. R01-3"),
        Column("answer", "分析与对策", "Analysis and method", required=True, width=60),
        Column("date", "日期", "Date", "date", width=12),
    ),
)

HELP_SPEC = TemplateSpec(kind="help", version=1, zh="困难报警", en="Help requests",
                         sheets=(HELP_REQUESTS_TABLE, HELP_ANSWERS_TABLE))

# --------------------------------------------------------------------------------------------
# Customer cards (客户信息收集卡): one workbook per rep, one row per customer and per detail.
# --------------------------------------------------------------------------------------------
BUYING_ROLES: dict[str, tuple[str, str]] = {
    "initiator": ("发起者", "initiator"),
    "user": ("使用者", "user"),
    "influencer": ("影响者", "influencer"),
    "administrator": ("办理者", "administrator"),
    "decider": ("决定者", "decider"),
    "approver": ("批准者", "approver"),
    "investor": ("投资者", "investor"),
}

_CARD_CUSTOMER = Column("customer", "客户名称", "Customer", required=True, width=28,
                        help_zh="与 MPC 一览表中的客户名称一致", help_en="As in your MPC list")

CARD_CUSTOMERS_TABLE = Table(
    key="card_customers",
    zh="客户",
    en="Customers",
    title_zh="客户信息收集卡:客户",
    title_en="Customer cards: customers",
    hint_zh="每个客户一行。成立日期用于周年提醒;签约后填回访间隔,按间隔提醒回访;介绍人填介绍该客户的老客户名称。",
    hint_en="One row per customer. The founding date drives anniversary reminders; after signing, the revisit "
    "interval drives revisit reminders; Referred by is the existing customer who introduced this one.",
    rows=200,
    key_columns=("customer",),
    columns=(
        _CARD_CUSTOMER,
        Column("founded", "成立日期", "Founded", "date", width=12),
        Column("referred_by", "介绍人(客户)", "Referred by (customer)", width=28),
        Column("signed", "签约日期", "Signed on", "date", width=12),
        Column("revisit_days", "回访间隔(天)", "Revisit every (days)", "int", width=12, low=1, high=3650),
        Column("address", "地址", "Address", width=30),
        Column("remarks", "备注", "Remarks", width=24),
    ),
)

CARD_PEOPLE_TABLE = Table(
    key="card_people",
    zh="关键人物",
    en="Key people",
    title_zh="客户信息收集卡:关键人物与采购角色",
    title_en="Customer cards: key people and their buying roles",
    hint_zh="每人一行。角色:发起者、使用者、影响者、办理者、决定者、批准者、投资者。生日用于生日提醒。",
    hint_en="One row per person. Roles: initiator, user, influencer, administrator, decider, approver, investor. "
    "Birthdays drive birthday reminders.",
    rows=400,
    key_columns=("customer", "name"),
    columns=(
        _CARD_CUSTOMER,
        Column("name", "姓名", "Name", required=True, width=12),
        Column("title", "职务", "Title", width=16),
        Column("role", "采购角色", "Buying role", "choice", True, "role", 12),
        Column("phone", "电话", "Phone", width=16),
        Column("birthday", "生日", "Birthday", "date", width=12),
    ),
)

CARD_EQUIPMENT_TABLE = Table(
    key="card_equipment",
    zh="现有设备",
    en="Installed equipment",
    title_zh="客户信息收集卡:现有设备情况",
    title_en="Customer cards: installed equipment",
    hint_zh="客户现有的每台(类)设备一行。",
    hint_en="One row per installed machine (or kind of machine).",
    rows=400,
    columns=(
        _CARD_CUSTOMER,
        Column("maker", "厂家", "Maker", required=True, width=16),
        Column("model", "型号", "Model", width=14),
        Column("bought", "购进时间", "Bought on", "date", width=12),
        Column("price", "购买价格", "Price", "money", width=14, low=0),
        Column("usage", "使用情况", "Usage", width=24),
        Column("satisfaction", "售后满意度", "After-sales satisfaction", width=16),
    ),
)

CARD_PLANS_TABLE = Table(
    key="card_plans",
    zh="三年采购计划",
    en="Planned purchases",
    title_zh="客户信息收集卡:近三年准备更新或购置的设备",
    title_en="Customer cards: purchases planned in the next three years",
    hint_zh="每项计划一行。",
    hint_en="One row per planned purchase.",
    rows=400,
    columns=(
        _CARD_CUSTOMER,
        Column("year", "年份", "Year", "int", True, width=8, low=2000, high=2100),
        Column("product", "设备", "Equipment", required=True, width=20),
        Column("quantity", "数量", "Quantity", "int", width=8, low=0),
        Column("budget", "预算", "Budget", "money", width=14, low=0),
        Column("remarks", "备注", "Remarks", width=24),
    ),
)

CARD_APPOINTMENTS_TABLE = Table(
    key="card_appointments",
    zh="约见",
    en="Appointments",
    title_zh="客户信息收集卡:已约定的拜访与约见",
    title_en="Customer cards: promised appointments",
    hint_zh="每个约见一行;到期前会提醒你。",
    hint_en="One row per appointment; you are reminded before it.",
    rows=200,
    columns=(
        _CARD_CUSTOMER,
        Column("date", "日期", "Date", "date", True, width=12),
        Column("time", "时间", "Time", width=10),
        Column("person", "约见人", "With", width=12),
        Column("purpose", "事项", "Purpose", width=30),
    ),
)

CARDS_SPEC = TemplateSpec(kind="cards", version=1, zh="客户信息收集卡", en="Customer cards",
                          sheets=(CARD_CUSTOMERS_TABLE, CARD_PEOPLE_TABLE, CARD_EQUIPMENT_TABLE, CARD_PLANS_TABLE,
                                  CARD_APPOINTMENTS_TABLE))

TEMPLATE_SPECS: dict[str, TemplateSpec] = {s.kind: s for s in (MPC_SPEC, WEEKLY_SPEC, DECISIONS_SPEC, LOST_SPEC,
                                                                 HELP_SPEC, CARDS_SPEC)}

# --------------------------------------------------------------------------------------------
# The playbook (作战手册): the method as data that managers edit.
# --------------------------------------------------------------------------------------------
STAGES_TABLE = Table(
    key="stages",
    zh="销售阶段",
    en="Stages",
    title_zh="销售推进八步流程",
    title_en="The eight-step sales process",
    hint_zh="阶段按序号排列;赢率用于加权预测,时限(天)用于限时推进。",
    hint_en="Stages in order; the win probability weights the forecast, the limit (days) drives time limits.",
    rows=20,
    key_columns=("order",),
    duplicate_code="duplicate-id",
    columns=(
        Column("order", "序号", "No.", "int", True, width=6, low=1, high=20),
        Column("name_zh", "阶段(中文)", "Stage (zh)", required=True, width=14),
        Column("name_en", "阶段(英文)", "Stage (en)", required=True, width=24),
        Column("probability", "赢率", "Win probability", "percent", True, width=10, low=0, high=1),
        Column("limit_days", "时限(天)", "Time limit (days)", "int", width=10, low=0),
        Column("funnel_state", "漏斗状态", "Funnel state", "choice", True, "funnel_state", 12),
        Column("customer_step", "客户采购步骤", "Customer's step", width=28),
        Column("milestone_zh", "里程碑(中文)", "Milestone (zh)", width=28),
        Column("milestone_en", "里程碑(英文)", "Milestone (en)", width=44),
    ),
)

TEAM_TABLE = Table(
    key="team",
    zh="团队",
    en="Team",
    title_zh="团队与权限",
    title_en="Team and permissions",
    hint_zh="每人一行;上级填其编号;权限级别 1–9(1 销售代表 … 9 总经理)。",
    hint_en="One row per person; supervisor is their id; permission level 1-9 (1 rep … 9 general manager).",
    rows=200,
    key_columns=("id",),
    duplicate_code="duplicate-id",
    columns=(
        Column("id", "编号", "Id", required=True, width=10),
        Column("name", "姓名", "Name", required=True, width=12),
        Column("region", "区域", "Region", required=True, width=10),
        Column("team", "团队", "Team", required=True, width=14),
        Column("supervisor", "上级编号", "Supervisor id", width=12),
        Column("level", "权限级别", "Permission level", "int", True, width=12, low=1, high=9),
        Column("email", "邮箱", "E-mail", width=26),
    ),
)

TARGETS_TABLE = Table(
    key="targets",
    zh="目标",
    en="Targets",
    title_zh="销售目标",
    title_en="Sales targets",
    hint_zh="人员编号或团队名;期间写 2026、2026-Q4 或 2026-11(年、季目标按月平均分摊)。",
    hint_en="A person id or team name; period 2026, 2026-Q4 or 2026-11 (year and quarter targets are spread evenly over months).",
    rows=400,
    key_columns=("owner", "period"),
    columns=(
        Column("owner", "人员或团队", "Person or team", required=True, width=16),
        Column("period", "期间", "Period", required=True, width=10),
        Column("amount", "目标金额", "Target amount", "money", True, width=16, low=0),
    ),
)

PRODUCTS_TABLE = Table(
    key="products",
    zh="产品",
    en="Products",
    title_zh="产品类别与型号",
    title_en="Product categories and models",
    hint_zh="产品类别会出现在模板的下拉列表中。“金额上限”可选:该类别单个金额的上限,留空则用设置中的 max_amount。",
    hint_en="Categories feed the templates' drop-downs. Amount limit is optional: the largest amount one cell "
    "of that category may hold; empty means max_amount from the settings.",
    rows=200,
    key_columns=("category", "model"),
    columns=(
        Column("category", "产品类别", "Category", required=True, width=18),
        Column("model", "型号", "Model", width=16),
        Column("amount_limit", "金额上限", "Amount limit", "money", width=16, low=0,
               help_zh="可选:该类别单个金额的上限", help_en="Optional: the largest amount for this category"),
    ),
)

SETTINGS_TABLE = Table(
    key="settings",
    zh="设置",
    en="Settings",
    title_zh="设置",
    title_en="Settings",
    hint_zh="只改“值”一列。",
    hint_en="Change the Value column only.",
    rows=20,
    key_columns=("key",),
    duplicate_code="duplicate-id",
    columns=(
        Column("key", "设置项", "Setting", required=True, width=26),
        Column("value", "值", "Value", required=True, width=16),
        Column("note", "说明", "Note", width=50),
    ),
)

LOST_REASONS_TABLE = Table(
    key="lost_reasons",
    zh="丢单原因",
    en="Lost reasons",
    title_zh="丢单原因类别",
    title_en="Reasons deals are lost",
    hint_zh="丢单报告“丢单原因类别”下拉列表中的选项,可增删改。",
    hint_en="The choices of the lost-deal report's Reason drop-down; add, remove or rename them.",
    rows=40,
    key_columns=("reason",),
    duplicate_code="duplicate-id",
    columns=(
        Column("reason", "丢单原因", "Reason", required=True, width=20),
        Column("note", "说明", "Note", width=50),
    ),
)

ACTIVITY_TYPES_TABLE = Table(
    key="activity_types",
    zh="活动类型",
    en="Activity types",
    title_zh="工作日志的活动类型",
    title_en="Activity types of the daily log",
    hint_zh="工作日志里可打勾的活动。权重用于能力曲线(有效工作得分);“销售工作”留空表示非销售工作。代码不要改。",
    hint_en="What reps tick in the daily log. The weight scores effectiveness; leave Sales work empty for "
    "non-sales work. Do not change a code once used.",
    rows=30,
    key_columns=("code",),
    duplicate_code="duplicate-id",
    columns=(
        Column("code", "代码", "Code", required=True, width=14, help_zh="英文字母、数字或下划线",
               help_en="Letters, digits or underscores"),
        Column("name_zh", "活动(中文)", "Activity (zh)", required=True, width=14),
        Column("name_en", "活动(英文)", "Activity (en)", required=True, width=22),
        Column("weight", "权重", "Weight", "number", True, width=8, low=0, high=100),
        Column("sales", "销售工作", "Sales work", "tick", width=10, choices="tick"),
    ),
)

REACH_CHOICES: dict[str, tuple[str, str]] = {
    "own": ("本人", "own"),
    "team": ("团队", "team"),
    "region": ("区域", "region"),
    "company": ("公司", "company"),
}

LEVELS_TABLE = Table(
    key="levels",
    zh="权限级别",
    en="Levels",
    title_zh="九级权限:每个级别看到的范围",
    title_en="Nine permission levels: what each level sees",
    hint_zh="团队表中每人的权限级别在这里对应可见范围:本人、团队、区域或公司(总能看到自己的下属)。"
    "“实名排名”打 ✓ 的级别在排名中看到姓名,否则只看到自己的名次。",
    hint_en="Each person's permission level (Team sheet) maps here to what they see: own, team, region or "
    "company (always their own people too). Levels with Named rankings ticked see names in rankings; the "
    "others see only their own place.",
    rows=9,
    key_columns=("level",),
    duplicate_code="duplicate-id",
    columns=(
        Column("level", "级别", "Level", "int", True, width=6, low=1, high=9),
        Column("name_zh", "名称(中文)", "Name (zh)", width=12),
        Column("name_en", "名称(英文)", "Name (en)", width=18),
        Column("reach", "可见范围", "Sees", "choice", True, "reach", 10, "本人 / 团队 / 区域 / 公司",
               "own / team / region / company"),
        Column("named", "实名排名", "Named rankings", "tick", width=10, choices="tick"),
    ),
)

PLAYBOOK_TABLES: tuple[Table, ...] = (STAGES_TABLE, TEAM_TABLE, TARGETS_TABLE, PRODUCTS_TABLE, SETTINGS_TABLE)
# Sheets added to the playbook later: a playbook workbook without them keeps working (defaults hold).
TARGET_WEIGHTS_TABLE = Table(
    key="target_weights",
    zh="目标月度权重",
    en="Target weights",
    title_zh="年度、季度目标分摊到各月的权重",
    title_en="How year and quarter targets are spread over their months",
    hint_zh="每月一行(1–12);年、季目标按权重分摊到月(例如春节所在月份权重低)。留空则平均分摊。",
    hint_en="One row per month (1-12); year and quarter targets are spread over months by these weights (e.g. a "
    "low weight for the spring festival month). Empty: spread evenly.",
    rows=12,
    key_columns=("month",),
    duplicate_code="duplicate-id",
    columns=(
        Column("month", "月份", "Month", "int", True, width=8, low=1, high=12),
        Column("weight", "权重", "Weight", "number", True, width=10, low=0),
    ),
)

BUDGETS_TABLE = Table(
    key="budgets",
    zh="费用预算",
    en="Budgets",
    title_zh="费用预算(差旅费、招待费、其他)",
    title_en="Expense budgets (travel, entertainment, other)",
    hint_zh="人员编号或团队名;期间写 2026、2026-Q4 或 2026-11(年、季预算平均分摊到月)。没有预算的团队用成员预算之和。",
    hint_en="A person id or team name; period 2026, 2026-Q4 or 2026-11 (year and quarter budgets are spread evenly "
    "over months). A team without its own budget has the sum of its members'.",
    rows=200,
    key_columns=("owner", "period"),
    columns=(
        Column("owner", "人员或团队", "Person or team", required=True, width=16),
        Column("period", "期间", "Period", required=True, width=10),
        Column("travel", "差旅费", "Travel", "money", width=14, low=0),
        Column("entertainment", "招待费", "Entertainment", "money", width=14, low=0),
        Column("other", "其他", "Other", "money", width=14, low=0),
    ),
)

QUESTIONS_TABLE = Table(
    key="questions",
    zh="资格问题",
    en="Questions",
    title_zh="商机资格审查的九个问题",
    title_en="The nine qualifying questions",
    hint_zh="问题文字显示在汇总的“资格审查”表中;“排除答案”填 是 或 否:MPC 一览表“资格审查”表中对应的是/否列如此回答,"
    "商机即不合格(disqualified)。",
    hint_en="The questions' text heads the summary's Qualification sheet. Ruling-out answer yes or no: a deal whose "
    "yes/no column on the MPC list's Qualification sheet is answered so is disqualified.",
    rows=9,
    key_columns=("no",),
    duplicate_code="duplicate-id",
    columns=(
        Column("no", "序号", "No.", "int", True, width=6, low=1, high=9),
        Column("question_zh", "问题(中文)", "Question (zh)", required=True, width=30),
        Column("question_en", "问题(英文)", "Question (en)", required=True, width=40),
        Column("rules_out", "排除答案", "Ruling-out answer", "choice", False, "yesno", 12, "是 / 否 / 留空", "yes / no / empty"),
    ),
)

OPTIONAL_PLAYBOOK_TABLES: tuple[Table, ...] = (LOST_REASONS_TABLE, ACTIVITY_TYPES_TABLE, LEVELS_TABLE,
                                               TARGET_WEIGHTS_TABLE, BUDGETS_TABLE, QUESTIONS_TABLE)
