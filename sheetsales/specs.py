"""Column specifications: the one source of truth for templates and readers.

A :class:`Table` describes one sheet of rows (its title, header row and columns);
a :class:`Form` describes a sheet of labelled single values. ``templates.py``
draws workbooks from these specs and ``read.py``/``validate.py`` read the same
workbooks back with them, so the two can never disagree.

Each label exists in zh-CN and en; readers accept either language, so a
workbook keeps working when a workspace switches language.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    kind: str = "text"  # text | int | number | money | percent | date | choice
    required: bool = False
    choices: str = ""  # stage | category | status | funnel_state
    width: float = 14
    help_zh: str = ""
    help_en: str = ""
    low: float | None = None
    high: float | None = None

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
MPC_TABLE = Table(
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

MPC_SPEC = TemplateSpec(kind="mpc", version=1, zh="MPC一览表", en="MPC list", sheets=(MPC_TABLE,))

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

LOG_TABLE = Table(
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
    version=1,
    zh="工作周报",
    en="Weekly report",
    sheets=(WEEKLY_FORM, LOG_TABLE, CONTRACTS_TABLE, EXPENSES_TABLE),
)

TEMPLATE_SPECS: dict[str, TemplateSpec] = {s.kind: s for s in (MPC_SPEC, WEEKLY_SPEC)}

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
    hint_zh="产品类别会出现在模板的下拉列表中。",
    hint_en="Categories feed the templates' drop-downs.",
    rows=200,
    key_columns=("category", "model"),
    columns=(
        Column("category", "产品类别", "Category", required=True, width=18),
        Column("model", "型号", "Model", width=16),
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

PLAYBOOK_TABLES: tuple[Table, ...] = (STAGES_TABLE, TEAM_TABLE, TARGETS_TABLE, PRODUCTS_TABLE, SETTINGS_TABLE)
