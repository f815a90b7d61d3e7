"""The demo: a realistic sales team living in Excel for a few weeks, ingested and reported.

``run_demo(root, as_of)`` builds a complete workspace under ``root``:

* a playbook with one director (D01), two supervisors (S01 over 华东/East, S02 over
  华北/North and 华南/South) and thirteen reps (R01-R13), monthly and quarterly targets
  per rep and yearly targets per team for the current and the next year, the default
  eight stages (with their time limits) and products;
* ``weeks`` consecutive ISO weeks ending with the week of ``as_of`` (the demo's
  "today"). Each week every rep saves their living MPC list (retyping the whole
  list, as people do: stages with their milestone ticks, the nine qualifying answers
  and the C931 ticks) and fills that week's report: key events, market news, daily
  log rows (every open deal worked at least every other week), contracts signed and
  expenses. Supervisors save their decisions workbooks when they decide something.
  Then the inbox is ingested as of that week's Friday (the last week: as of ``as_of``);
* deals evolve deterministically from a fixed seed: they advance, sometimes move
  back, change amount and signing date, new ones appear, some are won (with a
  contract row in the weekly report) and some are lost. Reps heed the stage time
  limits: a deal reminded one week is moved on (or closed) the next, so most deals
  are healthy;
* scripted moments (eight weeks or more) make every stage rule fire at least once:
  the seed's worked case (claimed at 方案设计, evidenced at 项目立项), a stage skipped
  and one moved back, deals confiscated past their limit (S01 returns one, S02
  reassigns one, one still waits for a decision), an extension granted in time,
  decisions without authority or with a mistyped deal id, a deal dropped from a list
  and one closed by the supervisor, a duplicate claim (撞单), a lock passed on when the
  first claim is lost, two reps' customers one character apart, a sudden win, a typed win
  rate and a late amount that contradict the stage, a slipping signing date, a
  neglected deal, an unqualified one, an optimistic C931, a passed signing date, a
  small deal kept out of the funnel; R01 carries the method's worked example
  (1,000,000 at 方案设计 20% and 500,000 at 方案确认 50%);
* a few deliberate data errors show what validation does: a signing date typed as
  text, a negative amount, an unknown stage name, a formula in an amount cell, a
  daily-log date outside its week, and an amount typed as words that is fixed the
  week after;
* finally ``run_report`` writes ``reports/summary.xlsx`` and ``reports/feedback/``.

Only ``as_of`` varies the output: the same ``as_of``, ``lang`` and ``weeks`` give the
same figures. A folder made by the demo carries a ``.sheetsales-demo`` marker and is
wiped and rebuilt on the next run; any other non-empty folder is refused.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import shutil
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from ..issues import ERROR
from ..method.playbook import DEFAULT_PRODUCTS, DEFAULT_STAGES, Budget, Person, Playbook, Target
from ..outputs.report import run_report
from ..reading.names import normalise_customer, opportunity_key
from ..reading.specs import (
    C931_TABLE,
    CONTRACTS_TABLE,
    DECISION_CHOICES,
    DECISIONS_TABLE,
    EXPENSES_TABLE,
    FIRST_DATA_ROW,
    LOG_TABLE,
    LOST_TABLE,
    PLAN_TABLE,
    QUALIFICATION_TABLE,
    TICK,
    WEEKLY_FORM,
    Form,
    Table,
    mpc_table,
)
from ..reading.templates import iso_week, template_filename
from ..storage.ingest import ingest
from . import demo_care, demo_log
from .workspace import CONFIG, LANGS, Workspace, WorkspaceError, init_workspace

SEED = 8_2026
DEMO_MARKER = ".sheetsales-demo"


class DemoError(WorkspaceError):
    """The demo cannot be built where it was asked to (the CLI prints it and exits 2)."""


@dataclass
class DemoResult:
    root: Path
    summary_path: Path
    feedback: list[Path]
    weeks: list[str]  # ISO weeks, oldest first
    ingest_dates: list[dt.date]
    files_ingested: int  # new files or new versions read, over all weeks
    issues: int  # data issues on the summary's Data issues sheet
    seconds: float = 0.0


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------
MESSAGES: dict[str, tuple[str, str]] = {
    "start": ("正在生成演示工作区 {root}:{weeks} 周,截至 {as_of}",
              "Building the demo workspace {root}: {weeks} weeks up to {as_of}"),
    "week": ("第 {i}/{n} 周 {week}:{reps} 名销售保存了文件,入库 {files} 个文件,{issues} 个数据问题",
             "week {i}/{n} {week}: {reps} reps saved, ingested {files} files, {issues} issues"),
    "done": ("完成,用时 {seconds:.1f} 秒。截至 {as_of}:{deals} 个未结商机,{alerts} 条预警,{issues} 个数据问题。",
             "Done in {seconds:.1f} s. As of {as_of}: {deals} open deals, {alerts} alerts, {issues} data issues."),
    "workspace": ("  工作区      {path}", "  workspace   {path}"),
    "summary": ("  汇总表      {path}", "  summary     {path}"),
    "feedback": ("  个人反馈    {path}({count} 人)", "  feedback    {path} ({count} people)"),
    "inbox": ("  共享收件箱  {path}(销售在这里填写模板)", "  inbox       {path} (where reps fill their templates)"),
    "playbook": ("  作战手册    {path}", "  playbook    {path}"),
    "refuse_files": ("{root} 不是空文件夹,也不是演示工作区;演示不会覆盖它。请指定一个新文件夹。",
                     "{root} is not empty and is not a demo workspace; the demo will not overwrite it. "
                     "Choose a new folder."),
    "refuse_workspace": ("{root} 是一个真实的 sheetsales 工作区(不是演示生成的);演示不会删除它。请指定一个新文件夹。",
                         "{root} is a sheetsales workspace that the demo did not make; the demo will not "
                         "delete it. Choose a new folder."),
    "refuse_file": ("{root} 是一个文件,不是文件夹。", "{root} is a file, not a folder."),
    "bad_weeks": ("周数必须在 1 到 52 之间(收到 {weeks})。", "weeks must be between 1 and 52 (got {weeks})."),
    "bad_playbook": ("演示的作战手册未通过校验:{issues}", "The demo playbook did not validate: {issues}"),
}


def _msg(key: str, lang: str, **params: Any) -> str:
    zh, en = MESSAGES[key]
    return (en if lang == "en" else zh).format(**params)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# --------------------------------------------------------------------------------------------
# The team, the products and the targets
# --------------------------------------------------------------------------------------------
REGIONS: tuple[tuple[str, str], ...] = (("华东", "East"), ("华北", "North"), ("华南", "South"))
TEAMS: tuple[tuple[str, str], ...] = (("华东组", "East team"), ("华北组", "North team"), ("华南组", "South team"))
HEAD_OFFICE = (("全国", "National"), ("销售部", "Sales"))

# id, name (zh, en), level, region index or -1 for the head office, supervisor
MANAGERS: tuple[tuple[str, tuple[str, str], int, int, str], ...] = (
    ("D01", ("周建国", "Zhou Jianguo"), 8, -1, ""),
    ("S01", ("王海涛", "Wang Haitao"), 5, 0, "D01"),
    ("S02", ("陈立新", "Chen Lixin"), 5, 1, "D01"),  # also runs 华南组 (R10-R13 report to S02)
)
# id, name (zh, en), region index, supervisor, yearly target (CNY)
REPS: tuple[tuple[str, tuple[str, str], int, str, int], ...] = (
    ("R01", ("张伟", "Zhang Wei"), 0, "S01", 12_000_000),
    ("R02", ("李娜", "Li Na"), 0, "S01", 9_600_000),
    ("R03", ("刘洋", "Liu Yang"), 0, "S01", 8_400_000),
    ("R04", ("赵敏", "Zhao Min"), 0, "S01", 7_200_000),
    ("R05", ("孙浩", "Sun Hao"), 0, "S01", 6_000_000),
    ("R06", ("周婷", "Zhou Ting"), 1, "S02", 10_800_000),
    ("R07", ("吴磊", "Wu Lei"), 1, "S02", 8_400_000),
    ("R08", ("郑凯", "Zheng Kai"), 1, "S02", 7_200_000),
    ("R09", ("冯雪", "Feng Xue"), 1, "S02", 6_000_000),
    ("R10", ("何志强", "He Zhiqiang"), 2, "S02", 10_800_000),
    ("R11", ("黄丽", "Huang Li"), 2, "S02", 8_400_000),
    ("R12", ("林峰", "Lin Feng"), 2, "S02", 7_200_000),
    ("R13", ("郭静", "Guo Jing"), 2, "S02", 6_000_000),
)
# Each rep's yearly expense budget (travel, entertainment, other), spread evenly over the months: a rep who
# entertains a lot passes the monthly entertainment budget (over-budget).
YEARLY_BUDGET = (156_000, 60_000, 12_000)
# Monthly weights of a yearly target (sum 12): slow Q1 around the spring festival, strong June and Q4.
SEASON = (0.6, 0.6, 0.9, 1.0, 1.0, 1.3, 0.9, 0.9, 1.0, 1.1, 1.2, 1.5)

CATEGORY_EN = {"数控机床": "CNC machine tools", "激光切割机": "Laser cutters", "检测设备": "Inspection equipment",
               "自动化产线": "Automation lines", "售后服务": "After-sales service"}
MODEL_EN = {"SVC-年保": "SVC-Annual"}
# Amount range (CNY) of a deal by category.
AMOUNTS = {"数控机床": (300_000, 2_400_000), "激光切割机": (400_000, 3_000_000), "检测设备": (150_000, 900_000),
           "自动化产线": (1_000_000, 3_000_000), "售后服务": (80_000, 300_000)}


def _category(zh: str, lang: str) -> str:
    return CATEGORY_EN.get(zh, zh) if lang == "en" else zh


def _model(zh: str, lang: str) -> str:
    return MODEL_EN.get(zh, zh) if lang == "en" else zh


def demo_playbook(lang: str, as_of: dt.date, first_day: dt.date | None = None) -> Playbook:
    """The demo team, targets and products in ``lang`` (region, team and category names are data)."""
    team = [Person(pid, _pick(name, lang), _pick(HEAD_OFFICE[0] if r < 0 else REGIONS[r], lang),
                   _pick(HEAD_OFFICE[1] if r < 0 else TEAMS[r], lang), sup, level,
                   f"{name[1].replace(' ', '.').lower()}@example.com")
            for pid, name, level, r, sup in MANAGERS]
    team += [Person(pid, _pick(name, lang), _pick(REGIONS[r], lang), _pick(TEAMS[r], lang), sup, 2,
                    f"{name[1].replace(' ', '.').lower()}@example.com")
             for pid, name, r, sup, _ in REPS]
    year = as_of.year
    years = sorted({(first_day or as_of).year, year})
    targets: list[Target] = []
    for pid, _name, _r, _sup, yearly in REPS:
        for y in years:
            targets += [Target(pid, f"{y}-{m:02d}", round(yearly / 12 * SEASON[m - 1], -4)) for m in range(1, 13)]
        grow = yearly * 1.15  # next year's plan: +15%
        targets += [Target(pid, f"{year + 1}-Q{q}", round(grow / 12 * sum(SEASON[3 * q - 3:3 * q]), -4))
                    for q in range(1, 5)]
    for r, names in enumerate(TEAMS):
        total = sum(rep[4] for rep in REPS if rep[2] == r)
        targets.append(Target(_pick(names, lang), str(year), round(total * 1.05, -5)))  # a stretch over the reps
        targets.append(Target(_pick(names, lang), str(year + 1), round(total * 1.2, -5)))
    products = tuple((_category(c, lang), _model(m, lang)) for c, m in DEFAULT_PRODUCTS)
    budgets = tuple(Budget(pid, str(y), *YEARLY_BUDGET) for pid, *_ in REPS for y in years)
    return Playbook(stages=DEFAULT_STAGES, team=tuple(team), targets=tuple(targets), products=products,
                    budgets=budgets, lost_reasons=Playbook.default(lang).lost_reasons)


# --------------------------------------------------------------------------------------------
# Names and phrases
# --------------------------------------------------------------------------------------------
PLACES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("江苏", "Jiangsu"), ("苏州", "Suzhou"), ("无锡", "Wuxi"), ("常州", "Changzhou"), ("浙江", "Zhejiang"),
     ("宁波", "Ningbo"), ("上海", "Shanghai"), ("合肥", "Hefei"), ("嘉兴", "Jiaxing")),
    (("北京", "Beijing"), ("天津", "Tianjin"), ("河北", "Hebei"), ("唐山", "Tangshan"), ("保定", "Baoding"),
     ("山西", "Shanxi"), ("济南", "Jinan"), ("沧州", "Cangzhou")),
    (("广东", "Guangdong"), ("深圳", "Shenzhen"), ("东莞", "Dongguan"), ("佛山", "Foshan"), ("广州", "Guangzhou"),
     ("厦门", "Xiamen"), ("珠海", "Zhuhai"), ("中山", "Zhongshan")),
)
BRANDS = (("恒远", "Hengyuan"), ("瑞丰", "Ruifeng"), ("金鼎", "Jinding"), ("宏达", "Hongda"), ("天成", "Tiancheng"),
          ("鑫源", "Xinyuan"), ("永固", "Yonggu"), ("博创", "Bochuang"), ("嘉泰", "Jiatai"), ("精诚", "Jingcheng"),
          ("远航", "Yuanhang"), ("德力", "Deli"), ("汇通", "Huitong"), ("凯利", "Kaili"), ("新锐", "Xinrui"),
          ("海川", "Haichuan"), ("明泰", "Mingtai"), ("荣盛", "Rongsheng"), ("华睿", "Huarui"), ("立信", "Lixin"))
INDUSTRIES = (("精密机械", "Precision Machinery"), ("汽车零部件", "Auto Parts"), ("电子科技", "Electronics"),
              ("模具", "Mould"), ("液压设备", "Hydraulics"), ("钣金制造", "Sheet Metal"),
              ("医疗器械", "Medical Devices"), ("轨道交通装备", "Rail Equipment"), ("航空部件", "Aero Components"),
              ("新能源科技", "New Energy Technology"), ("工程机械", "Construction Machinery"), ("阀门", "Valve"))
SUFFIXES = (("有限公司", "Co., Ltd."), ("股份有限公司", "Co., Ltd."), ("集团有限公司", "Group Co., Ltd."))
SURNAMES = (("陈", "Chen"), ("刘", "Liu"), ("杨", "Yang"), ("黄", "Huang"), ("徐", "Xu"), ("马", "Ma"),
            ("朱", "Zhu"), ("胡", "Hu"), ("高", "Gao"), ("罗", "Luo"))
TITLES = (("工", "Eng."), ("总", "GM"), ("经理", "Mgr."), ("科长", "Chief"), ("主任", "Director"))
DISTRIBUTORS = (("华东机电贸易", "East China M&E Trading"), ("北方工业装备", "Northern Industrial Supply"),
                ("南方设备服务", "Southern Equipment Services"))

DETAIL = {
    1: (("客户提出产能扩充需求,内部立项中", "Customer wants more capacity; internal project being approved"),
        ("了解到新厂房规划,正在分析项目", "New plant planned; analysing the project")),
    2: (("已上门拜访设备科,找到内线", "Visited the equipment dept.; found an insider"),
        ("与技术科长建立联系,预算待定", "Contact with the technical chief; budget not fixed yet")),
    3: (("方案初稿已提交,等待技术反馈", "First draft of the solution sent; awaiting technical feedback"),
        ("采购小组已组建,正在收集需求", "Buying team formed; collecting requirements")),
    4: (("已安排参观样板客户,技术倾向我方", "Reference visit done; engineers lean to us"),
        ("客户在制定采购标准,我方参与", "Customer drafting buying criteria with our input")),
    5: (("技术方案已确认,等待招标", "Solution confirmed; tender expected"),
        ("已进入短名单,准备投标", "On the shortlist; preparing the bid")),
    6: (("高层倾向我方,评估中", "Senior management leans to us; evaluation going on"),
        ("首选供应商评估,竞品报价更低", "Preferred-supplier evaluation; competitor is cheaper")),
    7: (("合同条款谈判中,付款方式待定", "Negotiating terms; payment terms open"),
        ("价格基本谈妥,等待审批", "Price nearly agreed; waiting for approval")),
}
RESOURCES = {
    1: ("需要行业案例资料", "Industry references"), 2: ("需要技术部陪同拜访", "Engineer to join a visit"),
    3: ("需要技术部支持方案设计", "Engineering support for the solution"),
    4: ("需要安排样板客户参观", "A reference-site visit"), 5: ("需要总监拜访高层", "Director to meet their top"),
    6: ("需要特价审批", "Special price approval"), 7: ("需要法务审核合同", "Legal review of the contract"),
}
LOST_REASONS = (("价格因素,客户选择了竞争对手", "Lost on price to a competitor"),
                ("项目预算取消", "Project budget cancelled"),
                ("客户选用进口品牌", "Customer chose an imported brand"))
# A service contract R06 signs in week L-2 for a customer that is no deal of the MPC list: contract-without-deal.
# (rep, weeks before the last, customer, category, model, quantity, amount)
EXTRA_CONTRACTS: tuple[tuple[str, int, tuple[str, str], str, str, int, int], ...] = (
    ("R06", 2, ("石家庄安泰机电有限公司", "Shijiazhuang Antai M&E Co., Ltd."), "售后服务", "SVC-年保", 1, 45_000),
)
# What a rep writes in the lost-deal report (丢单报告) for each of the reasons above: the playbook's reason, the
# winner (None: nobody won), the winner's price as a share of ours, the purchase method and the analysis.
LOST_REPORT_FACTS: tuple[tuple[tuple[str, str], tuple[str, str] | None, float | None, tuple[str, str],
                               tuple[str, str]], ...] = (
    (("价格", "Price"), ("宏力机床", "Hongli Machine Tools"), 0.88, ("公开招标", "Open tender"),
     ("对手报价低约 12%,我方特价申请未获批准", "Their bid was about 12% lower; our special price was not approved")),
    (("预算取消", "Budget withdrawn"), None, None, ("竞争性谈判", "Negotiation"),
     ("客户年度预算削减,项目取消", "Their annual budget was cut and the project cancelled")),
    (("竞争对手实力", "Competitor's strength"), ("德国进口品牌", "A German import brand"), 1.15, ("邀请招标", "Invited tender"),
     ("客户高层倾向进口品牌,我方报价更低仍未中标", "Their management preferred an import brand although we were cheaper")),
)
LOST_TERMS = (("30%预付,70%到货", "30% advance, 70% on delivery"), ("预付30%,到货60%,质保金10%",
                                                                 "30% advance, 60% on delivery, 10% retention"))
ACTIVITIES = {
    1: (("电话了解需求,确认立项意向", "Call to understand the need and the project"),),
    2: (("上门拜访设备科,结识技术科长", "Visit to the equipment dept., met the technical chief"),
        ("拜访采购部,了解预算", "Visit to purchasing about the budget")),
    3: (("提交技术方案初稿", "Sent the first draft of the solution"),
        ("与技术部讨论工艺方案", "Process discussion with their engineers")),
    4: (("陪同客户参观样板工厂", "Hosted a reference-site visit"),
        ("样机试切演示", "Test cut on a demo machine")),
    5: (("参加技术交流会,答疑", "Technical Q&A with the buying team"),
        ("准备投标文件", "Prepared the tender documents")),
    6: (("拜访分管副总,汇报方案优势", "Met the deputy GM to present our strengths"),),
    7: (("商务谈判:付款方式与交期", "Negotiated payment terms and delivery"),
        ("合同条款逐条确认", "Went through the contract clauses")),
    8: (("签约仪式,合同盖章", "Contract signing"),),
}
RESULTS = (("客户认可,约下周再谈", "Positive; follow-up next week"), ("需补充报价明细", "Needs a detailed quote"),
           ("确认了关键需求", "Key needs confirmed"), ("对方要求降价5%", "They ask for 5% off"),
           ("拿到采购时间表", "Got their buying timetable"), ("进展顺利", "Going well"))
OFFICE = ((("内部周会,MPC周评", "Weekly team meeting, MPC review"), ("明确本周重点商机", "Agreed this week's focus")),
          (("整理客户资料,更新MPC一览表", "Updated customer records and the MPC list"), ("已完成", "Done")))
MARKET_NEWS = (
    ("竞争对手A推出低价机型,报价下调约8%。", "Competitor A launched a budget model, about 8% cheaper."),
    ("汽车零部件行业扩产,询价明显增多。", "Auto-parts makers are expanding; more enquiries."),
    ("钢材价格上涨,部分客户推迟采购。", "Steel prices up; some customers postpone purchases."),
    ("地方政府出台设备更新补贴政策。", "The provincial government announced subsidies for equipment renewal."),
    ("新能源客户对交期要求更紧。", "New-energy customers want shorter delivery times."),
    ("进口品牌交期延长到6个月。", "Imported brands now quote 6-month delivery."),
    ("行业展会将于下月举行,客户邀约中。", "Trade fair next month; inviting customers."),
    ("客户普遍要求延长付款周期。", "Customers ask for longer payment terms."),
)
TRAVEL = (("高铁往返{place}", "Train to {place} and back"), ("自驾拜访{place}客户", "Drove to customers in {place}"),
          ("{place}出差住宿", "Hotel in {place}"))

QUALIFICATION_ANSWERS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("产能不足,计划扩产", "Short of capacity; expanding"), ("提高加工精度,减少返工", "Better precision, less rework")),
    (("中型制造企业,符合", "Mid-sized manufacturer: a fit"), ("行业重点客户,符合", "Key account in our sector: a fit")),
    (("无", "None"), ("要求本地服务网点,我方满足", "Needs local service; we have it")),
    (("已列入年度预算,约{amount}", "In this year's budget, about {amount}"),
     ("预算约{amount},待审批", "About {amount}, awaiting approval")),
    (("付款记录良好", "Pays on time"), ("国有企业,资金充足", "State-owned, well funded")),
    (("计划{month}签约", "Plans to sign in {month}"), ("{month}前完成采购", "Buys before {month}")),
    (("有,{contact}", "Yes: {contact}"), ("有,{contact}(技术部)", "Yes: {contact} (engineering)")),
    (("{quantity}台,高于我方最低量", "{quantity} units, above our minimum"),
     ("{quantity}套,满足最低量", "{quantity} sets, meets our minimum")),
    (("预计毛利约25%,高于底线", "About 25% gross margin, above our floor"),
     ("预计毛利约18%,接近底线", "About 18% gross margin, near our floor")),
)


# The screening columns of the Qualification sheet and the answer that passes each (MPC template v3).
SCREENING: tuple[tuple[str, int, tuple[str, str]], ...] = (
    ("x3", 3, ("否", "no")), ("x4", 4, ("是", "yes")), ("x8", 8, ("是", "yes")), ("x9", 9, ("是", "yes")))
NO_BUDGET = ("客户年度预算已冻结,项目无资金", "Their annual budget is frozen: no money for the project")

# --------------------------------------------------------------------------------------------
# The deals
# --------------------------------------------------------------------------------------------
STAGE_LIMITS = {s.order: s.limit_days for s in DEFAULT_STAGES}
FINAL_STAGE = len(DEFAULT_STAGES)
# How much of the qualification and of C931 a rep has filled in, by the furthest stage a deal reached.
QUALIFIED = {1: 2, 2: 5}  # questions answered in the search state; all nine from 方案设计 on
C931_BY_STAGE = {3: (4, 0, 0), 4: (6, 0, 0), 5: (7, 0, 0), 6: (8, 1, 0), 7: (9, 2, 0), 8: (9, 3, 1)}
OVERCLAIMING_REPS = ("R04", "R12")  # they tick milestones less carefully than they move stages


@dataclass(eq=False)
class Deal:
    customer: tuple[str, str]
    category: str  # the zh-CN category, translated when written
    model: str
    amount: int
    sign_date: dt.date
    stage: int
    contact: tuple[str, str]
    phone: str
    optimism: float = 0.0  # the rep's win-rate estimate minus the stage probability
    status: str = "open"  # open | won | lost
    distributor: tuple[str, str] | None = None
    frozen: bool = False  # kept out of the random walk (worked example, scripted cases)
    detail_pick: int = 0
    lost_reason: int = 0
    closed_on: dt.date | None = None
    typo: tuple[str, Any] | None = None  # (column, value typed instead), kept until fixed
    plan: dict[int, dict[str, Any]] = field(default_factory=dict)  # scripted: week index -> changes
    peak: int = 0  # the furthest stage reached: qualification and C931 grow with it
    unticked: frozenset[int] = frozenset()  # milestones the rep never ticked (over-claiming)
    q_gap: int = 0  # qualifying questions left unanswered
    weak_c931: bool = False  # claims a high win rate without the C931 to back it
    neglected: bool = False  # never worked: no daily-log entry mentions it
    unreported: bool = False  # lost without a lost-deal report (scripted)
    no_budget: bool = False  # its qualifying answers say the customer has no budget (scripted: disqualified)
    win_rate: float | None = None  # a typed win rate that ignores the stage (scripted)
    note: tuple[str, str] | None = None  # a scripted detailed status
    seen_stage: int = 0  # the stage sheetsales last observed, and the ingest day it first saw it
    seen_since: dt.date | None = None
    last_logged: int = -9  # the week index of the last daily-log entry about it

    @property
    def pick(self) -> int:
        """A stable per-deal number for choosing phrasings (independent of PYTHONHASHSEED)."""
        return zlib.crc32(self.customer[0].encode("utf-8"))


@dataclass
class Rep:
    id: str
    name: tuple[str, str]
    region: int
    deals: list[Deal] = field(default_factory=list)
    reported: int = 0  # rows of the lost-deal report as last saved
    extra_contracts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # week index -> scripted rows
    events: list[tuple[str, Deal]] = field(default_factory=list)  # this week's: new|advanced|won|lost|...


@dataclass(frozen=True)
class Week:
    index: int
    monday: dt.date
    ingest_on: dt.date
    iso: str

    @property
    def workdays(self) -> list[dt.date]:
        return [d for d in (self.monday + dt.timedelta(days=i) for i in range(5)) if d <= self.ingest_on] or [
            self.monday]


def demo_weeks(as_of: dt.date, weeks: int) -> list[Week]:
    """The ``weeks`` ISO weeks ending with ``as_of``'s; each ingested on its Friday, the last on ``as_of``."""
    last_monday = as_of - dt.timedelta(days=as_of.weekday())
    out = []
    for i in range(weeks):
        monday = last_monday - dt.timedelta(weeks=weeks - 1 - i)
        ingest_on = as_of if i == weeks - 1 else monday + dt.timedelta(days=4)
        out.append(Week(i, monday, ingest_on, iso_week(monday)))
    return out


@dataclass(frozen=True)
class Decision:
    """A row a supervisor (or, wrongly, a rep) types into a decisions workbook in week ``week``."""

    week: int
    author: str
    claimant: str  # the rep who first entered the deal: the deal id is computed from their claim
    deal: Deal
    decision: str  # keep | return | reassign | extend | close
    reason: tuple[str, str]
    to: str = ""
    days: int | None = None
    mistyped: bool = False  # the id is typed with its last character missing


# Days from today within which a deal at each stage is expected to sign.
SIGN_WITHIN = {1: (90, 210), 2: (70, 180), 3: (45, 150), 4: (35, 120), 5: (25, 100), 6: (14, 75), 7: (5, 40)}

# R01's two deals of the method's worked example (seed 002): customer, category, model, amount, stage.
WORKED_EXAMPLE: tuple[tuple[tuple[str, str], str, str, int, int], ...] = (
    (("江苏恒远精密机械有限公司", "Jiangsu Hengyuan Precision Machinery Co., Ltd."), "数控机床", "VMC-850", 1_000_000, 3),
    (("苏州瑞丰汽车零部件有限公司", "Suzhou Ruifeng Auto Parts Co., Ltd."), "检测设备", "CMM-700", 500_000, 5),
)
# The seed's worked case (seed 003/DOMAIN §1): R07 says the deal is at 方案设计 and asks for a proposal, but
# the milestones of 项目立项 and 初步接触 are not ticked: it really is still at 项目立项.
WORKED_CASE = (("天津宏达液压设备有限公司", "Tianjin Hongda Hydraulics Co., Ltd."), "自动化产线", "AL-200", 2_200_000)
# 撞单: R03 claimed this customer first; R02 enters it again, typed without the company form.
DUPLICATE_CLAIM = (("苏州金鼎模具有限公司", "Suzhou Jinding Mould Co., Ltd."), ("苏州金鼎模具", "Suzhou Jinding Mould"),
                   "激光切割机", "LC-3015")
SMALL_DEAL = ("售后服务", "SVC-年保", 36_000)  # under the small-deal threshold: kept out of the funnel
# The lock passes on: R05 claimed this customer first, R04 enters it again (without the company form); when
# R05's claim is lost, R04's holds the lock.
LOCK_PASSED = (("无锡华晟数控设备有限公司", "Wuxi Huasheng CNC Equipment Co., Ltd."),
               ("无锡华晟数控设备", "Wuxi Huasheng CNC Equipment"), "数控机床", "HMC-630")
# Two reps' customers whose names differ by one character (诚/成): a possible duplicate, both counted.
NEAR_NAMES = (("北京京诚重型机械有限公司", "Beijing Jingcheng Heavy Machinery Co., Ltd."),
              ("北京京成重型机械", "Beijing Jingchen Heavy Machinery"), "激光切割机", "LC-3015")


class Simulation:
    """Thirteen reps' pipelines, week by week, from one seeded random generator.

    The reps know the playbook's stage time limits: a deal a rep has not moved for as long as its
    stage allows (the reminder came the week before) is moved on, won or given up, so only the
    scripted cases are ever confiscated.
    """

    def __init__(self, weeks: list[Week], as_of: dt.date, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.weeks = weeks
        self.as_of = as_of
        self.used: set[str] = set()
        self.reps = [Rep(pid, name, r) for pid, name, r, _sup, _t in REPS]
        fixed = [name for name, *_ in WORKED_EXAMPLE] + [WORKED_CASE[0], *DUPLICATE_CLAIM[:2], *LOCK_PASSED[:2],
                                                         *NEAR_NAMES[:2]]
        self.used.update(normalise_customer(n) for name in fixed for n in name)
        self.arrivals: list[tuple[int, Rep, Deal, int]] = []  # (week, rep, deal, place on the list: 0 = last)
        self.decisions: list[Decision] = []
        self._opening(weeks[0])
        if len(weeks) >= 8:
            self._scenarios()
        self._arrive(weeks[0])

    # --- building blocks ---------------------------------------------------------------------
    def _customer(self, region: int) -> tuple[str, str]:
        rng = self.rng
        while True:
            place, brand = rng.choice(PLACES[region]), rng.choice(BRANDS)
            industry, suffix = rng.choice(INDUSTRIES), rng.choices(SUFFIXES, (6, 3, 1))[0]
            zh = f"{place[0]}{brand[0]}{industry[0]}{suffix[0]}"
            en = f"{place[1]} {brand[1]} {industry[1]} {suffix[1]}"
            keys = {normalise_customer(zh), normalise_customer(en)}
            if not keys & self.used:  # names that differ only in the company form are the same customer
                self.used |= keys
                return zh, en

    def _sign_date(self, stage: int, today: dt.date) -> dt.date:
        return today + dt.timedelta(days=self.rng.randint(*SIGN_WITHIN[stage]))

    def _amount(self, category: str) -> int:
        low, high = AMOUNTS[category]
        return int(round(self.rng.uniform(low, high), -4))

    def new_deal(self, rep: Rep, stage: int, today: dt.date, **fixed: Any) -> Deal:
        rng = self.rng
        category, model = rng.choice(DEFAULT_PRODUCTS)
        surname, title = rng.choice(SURNAMES), rng.choice(TITLES)
        deal = Deal(
            customer=self._customer(rep.region), category=category, model=model, amount=self._amount(category),
            sign_date=self._sign_date(stage, today), stage=stage,
            contact=(f"{surname[0]}{title[0]}", f"{title[1]} {surname[1]}"),
            phone=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
            optimism=rng.choice((0.0, 0.0, 0.0, 0.05, 0.1, -0.05)),
            distributor=rng.choice(DISTRIBUTORS) if rng.random() < 0.15 else None,
            detail_pick=rng.randint(0, 1),
        )
        for key, value in fixed.items():
            setattr(deal, key, value)
        return deal

    def _rep(self, rep_id: str) -> Rep:
        return next(r for r in self.reps if r.id == rep_id)

    def _open(self, rep: Rep) -> list[Deal]:
        return [d for d in rep.deals if d.status == "open" and not d.frozen and d.typo is None]

    def days_in_stage(self, deal: Deal, day: dt.date) -> int:
        """Days the deal will have been at its observed stage on ``day`` if it does not move."""
        return (day - deal.seen_since).days if deal.seen_since else 0

    def can_wait(self, deal: Deal, until: dt.date) -> bool:
        """Whether the deal, left as sheetsales last saw it, stays within its stage's limit until ``until``."""
        if deal.seen_since is None:  # not seen yet: no stage clock runs
            return True
        limit = STAGE_LIMITS.get(deal.stage)
        return deal.stage == deal.seen_stage and (not limit or self.days_in_stage(deal, until) <= limit)

    def _opening(self, week: Week) -> None:
        today = week.monday
        for rep in self.reps:
            for _ in range(self.rng.randint(4, 8)):
                stage = self.rng.choices(range(1, 7), (3, 3, 3, 2, 2, 1))[0]
                rep.deals.append(self.new_deal(rep, stage, today))
                rep.events.append(("new", rep.deals[-1]))
        # A few reps move stages without ticking the milestone that should come first.
        for rep_id in OVERCLAIMING_REPS:
            deal = next((d for d in self._rep(rep_id).deals if 3 <= d.stage <= 5), None)
            if deal is not None:
                deal.unticked = frozenset({deal.stage - 1})
        # One rep skipped two qualifying questions; another's C931 does not back the win rate he will type.
        deal = next((d for d in self._rep("R11").deals if d.stage >= 3), None)
        if deal is not None:
            deal.q_gap = 2
        deal = next((d for d in self._rep("R06").deals if d.stage >= 5), None)
        if deal is not None:
            deal.weak_c931 = True
        # The method's worked example (seed 002): 1,000,000 at 20% is worth 200,000, 500,000 at 50% 250,000.
        # Both deals move into those stages a few weeks before the end, within the stages' time limits.
        last = len(self.weeks) - 1
        example_day = self.as_of + dt.timedelta(days=75)
        for top, ((name, category, model, amount, stage), earlier) in enumerate(zip(WORKED_EXAMPLE, (3, 4),
                                                                                   strict=True)):
            self.script("R01", 0, stage - 1, {last - earlier: {"stage": stage}}, top=top + 1, customer=name,
                        category=category, model=model, amount=amount, sign_date=example_day, optimism=0.0,
                        distributor=None)

    def script(self, rep_id: str, appear: int, stage: int, plan: dict[int, dict[str, Any]] | None = None,
               top: int = 0, **fixed: Any) -> Deal:
        """A scripted deal: it enters ``rep_id``'s list in week ``appear`` and follows ``plan``.

        Plan entries due by the week it appears (short demos) are folded into its first state.
        """
        appear = max(0, appear)
        rep = self._rep(rep_id)
        deal = self.new_deal(rep, stage, self.weeks[appear].monday, frozen=True, **fixed)
        for week in sorted(plan or {}):
            if week <= appear:
                for key, value in plan[week].items():
                    setattr(deal, key, value)
            else:
                deal.plan[week] = plan[week]
        self.arrivals.append((appear, rep, deal, top))
        return deal

    def decide(self, week: int, author: str, claimant: str, deal: Deal, decision: str, reason: tuple[str, str],
               **extra: Any) -> None:
        self.decisions.append(Decision(week, author, claimant, deal, decision, reason, **extra))

    def _scenarios(self) -> None:
        """The moments the demo must show whatever the dice say (eight weeks or more).

        Week numbers count back from the last week ``L``; each ingest is a Friday, so a deal first
        seen at an ingest has 28 days in its stage four ingests later (the reminder: 30-day limit)
        and is confiscated at the fifth.
        """
        last = len(self.weeks) - 1

        def at(back: int) -> int:
            return last - back

        as_of = self.as_of
        # Stage without milestones: the seed's worked case, claimed at 方案设计 with nothing ticked.
        name, category, model, amount = WORKED_CASE
        self.script("R07", at(1), 3, customer=name, category=category, model=model, amount=amount,
                    unticked=frozenset({1, 2}), optimism=0.0,
                    note=("客户要求出技术方案,申请技术部支持", "Customer asks for a proposal; engineering support requested"))
        # A time limit extended before it ran out: 项目评估 since L-6, reminded at L-2, S01 grants 14 days at
        # L-1 (days 35 of 30+14), so at L the deal is at 42 days of 44 instead of confiscated.
        ext = self.script("R03", at(7), 5, {at(6): {"stage": 6}}, category="激光切割机", model="LC-3015",
                          amount=1_650_000, sign_date=as_of + dt.timedelta(days=40), optimism=0.0)
        self.decide(at(1), "S01", "R03", ext, "extend", ("客户总经理出差,评估会推迟两周", "Their GM is travelling; "
                    "the evaluation meeting moves two weeks"), days=14)
        # Confiscated at L-2 (初步接触 since the first week), given back by S01 at L-1, then moved on.
        # The rep also tries to give it back to himself: a decision he has no authority for.
        back = self.script("R05", at(7), 2, {at(0): {"stage": 3}}, category="检测设备", model="CMM-700",
                           amount=420_000, optimism=0.0)
        self.decide(at(1), "S01", "R05", back, "return", ("已与孙浩谈过,两周内完成上门拜访",
                                                        "Talked with Sun Hao: he visits them within two weeks"))
        self.decide(at(1), "R05", "R05", back, "return", ("我一直在跟进,请退回给我", "I am still on it, give it back"))
        # Confiscated at L-2 (项目立项 since the first week), reassigned by S02 to R08 at L-1; at L the
        # deal moves from R09's list to R08's.
        moved = self.script("R09", at(7), 1, {at(0): {"remove": True}}, category="数控机床", model="HMC-630",
                            amount=880_000, optimism=0.0)
        self.decide(at(1), "S02", "R09", moved, "reassign", ("冯雪手上客户太多,转郑凯跟进",
                                                           "Feng Xue has too many accounts; Zheng Kai takes it"),
                    to="R08")
        self.script("R08", at(0), 2, customer=moved.customer, category=moved.category, model=moved.model,
                    amount=moved.amount, contact=moved.contact, phone=moved.phone, optimism=0.0,
                    sign_date=as_of + dt.timedelta(days=120))
        # Confiscated at L-1 (业绩展示 since L-6) and still waiting: S02 mistypes the deal id at L.
        held = self.script("R12", at(7), 3, {at(6): {"stage": 4}}, category="自动化产线", model="AL-200",
                           amount=2_600_000, sign_date=as_of + dt.timedelta(days=60), optimism=0.0)
        self.decide(at(0), "S02", "R12", held, "reassign", ("林峰推进不动,转黄丽", "Lin Feng is stuck; Huang Li "
                    "takes it"), to="R11", mistyped=True)
        # 撞单: R03 claimed the customer at L-6; R02 enters it at L-1 without the company form.
        first, second, category, model = DUPLICATE_CLAIM
        self.script("R03", at(6), 2, {at(3): {"stage": 3}}, customer=first, category=category, model=model,
                    amount=1_300_000, optimism=0.0)
        self.script("R02", at(1), 2, customer=second, category=category, model=model, amount=1_250_000, optimism=0.0)
        # Sudden win: 项目立项 from the first week, 初步接触 at L-2, signed at L (49 days in the search state).
        self.script("R06", at(7), 1, {at(2): {"stage": 2}, at(0): {"won": True}}, category="自动化产线",
                    model="AL-200", amount=1_800_000, optimism=0.0)
        # A typed win rate far from the stage's (50% at 初步接触, 10%).
        self.script("R11", at(2), 2, category="数控机床", model="VMC-850", amount=760_000, win_rate=0.5,
                    note=("客户很热情,口头表示倾向我方", "Very keen; they said they lean to us"))
        # 80% at 商务谈判 with only 6C+0F in C931.
        self.script("R10", at(7), 6, {at(3): {"stage": 7}}, category="激光切割机", model="LC-3015", amount=2_100_000,
                    weak_c931=True, optimism=0.0, sign_date=as_of + dt.timedelta(days=21))
        # The amount of a deal at 商务谈判 cut by more than 30% in the last week.
        self.script("R10", at(7), 6, {at(3): {"stage": 7}, at(0): {
            "amount": 1_500_000, "note": ("客户削减为一条产线,金额下调", "They cut the order to one line")}},
            category="自动化产线", model="AL-200", amount=2_400_000, optimism=0.0,
            sign_date=as_of + dt.timedelta(days=30))
        # The signing date pushed back at each of the last three saves.
        self.script("R11", at(7), 4, {at(4): {"stage": 5}, at(2): {"sign_date": as_of + dt.timedelta(days=4)},
                                      at(1): {"sign_date": as_of + dt.timedelta(days=18)},
                                      at(0): {"sign_date": as_of + dt.timedelta(days=32)}},
                    category="数控机床", model="HMC-630", amount=1_200_000, optimism=0.0,
                    sign_date=as_of - dt.timedelta(days=10))
        # Never in the daily log since it was entered, yet moved on to 方案设计; its budget is frozen (disqualified).
        self.script("R13", at(7), 2, {at(3): {"stage": 3}}, category="检测设备", model="CMM-700", amount=380_000,
                    neglected=True, optimism=0.0, no_budget=True)
        # In the funnel with five of the nine qualifying questions answered.
        self.script("R04", at(4), 2, {at(2): {"stage": 3}}, category="数控机床", model="VMC-850", amount=650_000,
                    q_gap=4, optimism=0.0)
        # At 商务谈判 with an expected signing date that passed without an update.
        self.script("R08", at(5), 6, {at(2): {"stage": 7, "sign_date": as_of - dt.timedelta(days=6)}},
                    category="激光切割机", model="LC-3015", amount=1_450_000, optimism=0.0)
        # Two stages at once in the last week (初步接触 to 业绩展示), and one step back (方案确认 to 业绩展示).
        self.script("R13", at(3), 2, {at(0): {"stage": 4}}, category="数控机床", model="VMC-850", amount=900_000,
                    optimism=0.0)
        self.script("R02", at(7), 4, {at(4): {"stage": 5}, at(0): {
            "stage": 4, "note": ("客户要求重新做样件测试", "They want the sample test done again")}},
            category="检测设备", model="CMM-700", amount=560_000, optimism=0.0)
        # A small, fast deal under the threshold: tracked, but kept out of the funnel.
        category, model, amount = SMALL_DEAL
        self.script("R13", at(1), 2, category=category, model=model, amount=amount, optimism=0.0,
                    sign_date=as_of + dt.timedelta(days=20))
        # The cases below are drawn from their own random stream (and not logged: new in the last weeks),
        # so that every other deal and report of the demo stays as it was.
        main_rng, used = self.rng, set(self.used)
        self.rng = random.Random(SEED + 2)
        try:
            # The lock passes on: R05's claim (L-2) is lost at L; R04's later claim (L-1) then holds it.
            first, second, category, model = LOCK_PASSED
            self.script("R05", at(2), 2, {at(0): {"status": "lost"}}, customer=first, category=category,
                        model=model, amount=960_000, optimism=0.0, neglected=True)
            self.script("R04", at(1), 2, customer=second, category=category, model=model, amount=900_000,
                        optimism=0.0, neglected=True)
            # A possible duplicate: one character apart, two reps of S02, both counted.
            first, second, category, model = NEAR_NAMES
            self.script("R06", at(2), 2, customer=first, category=category, model=model, amount=1_100_000,
                        optimism=0.0, neglected=True)
            self.script("R07", at(1), 1, customer=second, category=category, model=model, amount=1_050_000,
                        optimism=0.0, neglected=True)
            # Lost at L-2 and still without a lost-deal report at L: lost-without-report (due within 7 days).
            self.script("R01", at(2), 3, {at(2): {"status": "lost"}}, category="检测设备", model="CMM-700",
                        amount=680_000, optimism=0.0, neglected=True, unreported=True)
            # Won at L-2 without a contract in any weekly report: won-without-contract (contract_days 7).
            self.script("R01", at(3), 7, {at(2): {"stage": FINAL_STAGE, "status": "won"}}, category="数控机床",
                        model="VMC-850", amount=1_260_000, optimism=0.0, neglected=True,
                        sign_date=as_of - dt.timedelta(days=12))
        finally:
            self.rng, self.used = main_rng, used
        for rep_id, back, customer, category, model, qty, amount in EXTRA_CONTRACTS:
            self._rep(rep_id).extra_contracts.setdefault(at(back), []).append(
                {"customer": customer, "category": category, "model": model, "quantity": qty, "amount": amount})

    def _arrive(self, week: Week) -> None:
        for when, rep, deal, top in self.arrivals:
            if when == week.index:
                if top:
                    rep.deals.insert(top - 1, deal)
                else:
                    rep.deals.append(deal)
                rep.events.append(("new", deal))

    def _follow_plan(self, rep: Rep, deal: Deal, week: Week) -> None:
        changes = deal.plan.get(week.index)
        if not changes:
            return
        for key, value in changes.items():
            if key == "stage" and value != deal.stage:
                rep.events.append(("advanced" if value > deal.stage else "moved_back", deal))
                deal.stage = value
                deal.detail_pick = 0
            elif key == "won":
                self.win(rep, deal, week)
            elif key == "remove":
                rep.deals.remove(deal)
            elif key != "stage":
                setattr(deal, key, value)

    # --- a week of selling ---------------------------------------------------------------------
    def advance(self, week: Week) -> None:
        """Move every rep's deals on by one week."""
        rng = self.rng
        last = week.index == len(self.weeks) - 1
        for rep in self.reps:
            rep.events = []
        self._arrive(week)
        for rep in self.reps:
            for deal in list(rep.deals):
                if deal.frozen:
                    self._follow_plan(rep, deal, week)
                    continue
                if deal.status != "open":
                    continue
                roll = rng.random()
                limit = STAGE_LIMITS.get(deal.stage)
                if limit and self.days_in_stage(deal, week.ingest_on) > limit:
                    # Reminded last week that the stage's time is up: move it on, close it or give it up.
                    if roll < 0.15:
                        self.lose(rep, deal, week)
                    elif deal.stage == FINAL_STAGE - 1:
                        self.win(rep, deal, week)
                    else:
                        self._move(rep, deal, week, 1)
                else:
                    win_p = 0.4 if deal.stage == FINAL_STAGE - 1 else 0.0
                    lose_p = 0.03 if deal.stage <= 3 else 0.02
                    roll -= win_p + lose_p
                    if roll < -lose_p:
                        self.win(rep, deal, week)
                    elif roll < 0:
                        self.lose(rep, deal, week)
                    elif roll < 0.3:
                        if deal.stage < FINAL_STAGE - 1:
                            self._move(rep, deal, week, 1)
                    elif roll < 0.33 and deal.stage > 1:
                        self._move(rep, deal, week, -1)  # a milestone turned out to be missing
                if deal.status != "open":
                    continue
                if rng.random() < 0.12:
                    deal.amount = max(80_000, min(3_000_000, int(round(deal.amount * rng.uniform(0.85, 1.15), -4))))
                if deal.sign_date < week.ingest_on and rng.random() < 0.8:
                    deal.sign_date = week.monday + dt.timedelta(weeks=rng.randint(2, 6))  # the date slips
                elif rng.random() < 0.1:
                    deal.sign_date += dt.timedelta(weeks=rng.randint(-1, 4))
            if rng.random() < 0.35:
                deal = self.new_deal(rep, rng.choice((1, 1, 2)), week.monday)
                rep.deals.append(deal)
                rep.events.append(("new", deal))
        self._script(week, last)

    def _move(self, rep: Rep, deal: Deal, week: Week, step: int) -> None:
        if step > 0 and rep.id in OVERCLAIMING_REPS and not deal.unticked and self.rng.random() < 0.12:
            deal.unticked = frozenset({deal.stage})  # moved on without the milestone that completes the stage
        deal.stage += step
        if step > 0:
            deal.detail_pick = self.rng.randint(0, 1)
            rep.events.append(("advanced", deal))
            if deal.sign_date > week.monday + dt.timedelta(days=SIGN_WITHIN[deal.stage][1]):
                deal.sign_date = self._sign_date(deal.stage, week.monday)  # moving on brings it closer
        else:
            rep.events.append(("moved_back", deal))

    def observe(self, week: Week) -> None:
        """What sheetsales saw at this week's ingest: a stage change starts the deal's stage clock."""
        for rep in self.reps:
            for deal in rep.deals:
                if deal.typo is None and deal.stage != deal.seen_stage:  # a row kept out for errors is not seen
                    deal.seen_stage, deal.seen_since = deal.stage, week.ingest_on

    def _script(self, week: Week, last: bool) -> None:
        """Random deals the scripted moments pick (a deletion, a loss, a win, a step forward)."""
        n = len(self.weeks)
        mid = max(1, n // 2)
        if week.index == mid and not last:
            dropped = self._delete(self._rep("R04"), week)
            if dropped is not None and n >= 8:  # the supervisor closes the deal the rep dropped
                self.decide(mid + 1, "S01", "R04", dropped, "close", ("客户项目已取消,关闭此商机",
                                                                    "The customer cancelled the project; closed"))
        if not last:
            return
        self._delete(self._rep("R09"), week)  # deleted instead of marked lost: "gone from the list"
        r11 = self._rep("R11")
        candidates = sorted(self._open(r11), key=lambda d: (-d.stage, d.amount))
        if candidates:
            self.lose(r11, candidates[0], week)
        r08 = self._rep("R08")
        movable = sorted((d for d in self._open(r08) if d.stage < FINAL_STAGE - 1 and d.stage == d.seen_stage),
                         key=lambda d: (-d.stage, -d.amount))
        if movable:
            self._move(r08, movable[0], week, 1)
        r03 = self._rep("R03")
        ripe = sorted((d for d in self._open(r03) if d.stage == FINAL_STAGE - 1), key=lambda d: -d.amount)
        if ripe and not any(e == "won" for e, _ in r03.events):
            self.win(r03, ripe[0], week)
        r02 = self._rep("R02")
        deal = self.new_deal(r02, 2, week.monday)
        r02.deals.append(deal)
        r02.events.append(("new", deal))

    def _delete(self, rep: Rep, week: Week) -> Deal | None:
        """The rep deletes an open deal already on the list (one that is not about to be confiscated)."""
        candidates = sorted((d for d in self._open(rep) if d.seen_since and self.can_wait(d, week.ingest_on)),
                            key=lambda d: (d.stage, d.amount))
        if not candidates:
            return None
        rep.deals.remove(candidates[0])
        rep.events.append(("deleted", candidates[0]))
        return candidates[0]

    def win(self, rep: Rep, deal: Deal, week: Week) -> None:
        deal.status, deal.stage = "won", FINAL_STAGE
        deal.amount = int(round(deal.amount * self.rng.uniform(0.92, 1.0), -3))
        deal.closed_on = self.rng.choice(week.workdays)
        deal.sign_date = deal.closed_on
        rep.events.append(("won", deal))

    def lose(self, rep: Rep, deal: Deal, week: Week) -> None:
        deal.status = "lost"
        deal.lost_reason = self.rng.randrange(len(LOST_REASONS))
        deal.closed_on = self.rng.choice(week.workdays)
        rep.events.append(("lost", deal))

    def decision_rows(self, author: str, week: Week, lang: str, playbook: Playbook) -> list[dict[str, Any]] | None:
        """Every row of ``author``'s decisions workbook as saved this week, or None when it is not saved."""
        mine = sorted((d for d in self.decisions if d.author == author and d.week <= week.index),
                      key=lambda d: d.week)  # rows are added at the bottom, week after week
        if not any(d.week == week.index for d in mine):
            return None
        labels = dict(zip(DECISION_CHOICES, playbook.choice_list("decision", lang), strict=True))
        rows = []
        for d in mine:
            deal_id = opportunity_key(d.claimant, _pick(d.deal.customer, lang), _category(d.deal.category, lang))
            on = self.weeks[d.week]
            rows.append({"deal": deal_id[:-1] if d.mistyped else deal_id, "decision": labels[d.decision],
                         "to": d.to or None, "days": d.days, "reason": _pick(d.reason, lang),
                         "date": min(on.monday + dt.timedelta(days=3), on.ingest_on)})
        return rows

    @property
    def deciders(self) -> list[str]:
        return list(dict.fromkeys(d.author for d in self.decisions))


# --------------------------------------------------------------------------------------------
# What a rep types
# --------------------------------------------------------------------------------------------
def _error_plan(weeks: int) -> dict[tuple[int, str], str]:
    """(week index, rep) -> the slip that rep makes that week."""
    last = weeks - 1
    plan = {
        (max(0, last - 1), "R05"): "text-date",  # and not fixed by the end
        (last, "R07"): "negative-amount",
        (last, "R10"): "unknown-stage",
        (last, "R12"): "formula-in-cell",
        (max(0, last - 2), "R02"): "date-outside-week",
    }
    if weeks >= 4:
        plan[(2, "R03")] = "wrong-type"  # fixed the week after
    return plan


def _slip(kind: str, deal: Deal, lang: str) -> tuple[str, Any]:
    if kind == "text-date":
        d = deal.sign_date
        return "sign_date", (f"end of {d:%b} {d.year}" if lang == "en" else f"{d.year}年{d.month}月底")
    if kind == "negative-amount":
        return "amount", -deal.amount
    if kind == "unknown-stage":
        return "stage", "Negotiating" if lang == "en" else "谈判中"
    if kind == "formula-in-cell":
        return "amount", f"={deal.amount // 10_000}*10000"
    return "amount", (f"about {deal.amount // 1000}k" if lang == "en" else f"约{deal.amount // 10_000}万")


def _ticks(keys: list[str]) -> dict[str, str]:
    return dict.fromkeys(keys, TICK)


def mpc_rows(rep: Rep, playbook: Playbook, lang: str) -> list[dict[str, Any]]:
    """The whole MPC list as the rep types it this week, milestone ticks included."""
    status = dict(zip(("open", "won", "lost"), playbook.choice_list("status", lang), strict=True))
    rows = []
    for no, d in enumerate(rep.deals, 1):
        stage = playbook.stage(d.stage)
        if d.status == "won":
            detail = (f"已签约 {d.closed_on}", f"Signed {d.closed_on}")
        elif d.status == "lost":
            detail = LOST_REASONS[d.lost_reason]
        else:
            detail = d.note or DETAIL[d.stage][d.detail_pick]
        if d.status != "open":
            win_rate = {"won": 1.0, "lost": 0.0}[d.status]
        elif d.win_rate is not None:
            win_rate = d.win_rate
        else:
            win_rate = min(0.95, max(0.0, stage.probability + d.optimism))
        row = {
            "no": no, "category": _category(d.category, lang), "model": _model(d.model, lang),
            "customer": _pick(d.customer, lang), "amount": d.amount, "sign_date": d.sign_date,
            "delivery_date": d.sign_date + dt.timedelta(weeks=8 if d.category != "自动化产线" else 16),
            "stage": stage.name(lang), "win_rate": round(win_rate, 2), "status": status[d.status],
            "detail": _pick(detail, lang), "owner_name": _pick(rep.name, lang),
            "resources": _pick(RESOURCES[d.stage], lang) if d.status == "open" and d.stage in RESOURCES else "",
            "distributor": _pick(d.distributor, lang) if d.distributor else "",
            # The milestone of every stage before the claimed one is met, unless the rep over-claims.
            **_ticks([f"m{n}" for n in range(1, min(d.stage, len(playbook.stages))) if n not in d.unticked]),
        }
        if d.typo:
            row[d.typo[0]] = d.typo[1]
        rows.append(row)
    return rows


def qualification_rows(rep: Rep, lang: str) -> list[dict[str, Any]]:
    """The nine questions, answered as far as the rep got with each deal."""
    rows = []
    for d in rep.deals:
        answered = QUALIFIED.get(d.peak, 9 - d.q_gap)
        month = f"{d.sign_date:%b %Y}" if lang == "en" else f"{d.sign_date.year}年{d.sign_date.month}月"
        amount = f"CNY {d.amount:,}" if lang == "en" else f"{d.amount / 10_000:g}万元"
        params = {"amount": amount, "month": month, "contact": _pick(d.contact, lang),
                  "quantity": 1 if d.category in ("售后服务", "自动化产线") else 1 + d.pick % 3}
        row: dict[str, Any] = {"customer": _pick(d.customer, lang), "category": _category(d.category, lang)}
        for n, answers in enumerate(QUALIFICATION_ANSWERS[:answered], 1):
            row[f"q{n}"] = _pick(answers[(d.pick >> n) % 2], lang).format(**params)
        # The yes/no screening columns beside the answers given: a hard constraint (no), a budget, volume and
        # margin (yes) — but the deal whose budget is frozen.
        for key, n, passing in SCREENING:
            if n <= answered:
                row[key] = _pick(passing, lang)
        if d.no_budget and answered >= 4:
            row["q4"], row["x4"] = _pick(NO_BUDGET, lang), _pick(("否", "no"), lang)
        rows.append(row)
    return rows


def c931_rows(rep: Rep, playbook: Playbook, lang: str) -> list[dict[str, Any]]:
    """The C931 ticks of every deal in the funnel: they grow with the stage, and back the typed win rate."""
    rows = []
    for d in rep.deals:
        if d.peak not in C931_BY_STAGE:
            continue
        clear, first, win = C931_BY_STAGE[d.peak]
        rate = d.win_rate if d.win_rate is not None else playbook.stage(d.stage).probability + d.optimism
        if rate >= 0.6 - 1e-9 and d.status == "open":
            clear, first = max(clear, 8), max(first, 1)
        if d.weak_c931:
            clear, first, win = min(clear, 6), 0, 0
        start = d.pick % 9
        keys = [f"c{(start + i) % 9 + 1}" for i in range(clear)] + [f"f{i}" for i in range(1, first + 1)]
        rows.append({"customer": _pick(d.customer, lang), "category": _category(d.category, lang),
                     **_ticks(keys + ["w1"] * win)})
    return rows


def _inject(rep: Rep, week: Week, plan: dict[tuple[int, str], str], lang: str, sim: Simulation) -> str | None:
    """Make this week's planned slip in the rep's list; returns its kind. One-week slips are undone later.

    A row with a slip is kept out (its deal keeps its last good values), so the slip goes to a deal
    that can wait that long within its stage's time limit.
    """
    for d in rep.deals:
        if d.typo and not d.frozen:
            d.typo = None  # last week's slip, fixed
    kind = plan.get((week.index, rep.id))
    if kind is None or kind == "date-outside-week":
        return kind
    until = sim.weeks[-1].ingest_on if kind == "text-date" else week.ingest_on
    candidates = [d for d in rep.deals if d.status == "open" and not d.frozen and sim.can_wait(d, until)]
    if not candidates:
        return None
    deal = max(candidates, key=lambda d: (d.stage, d.amount)) if kind == "unknown-stage" else candidates[0]
    deal.typo = _slip(kind, deal, lang)
    if kind == "text-date":
        deal.frozen = True  # the rep never gets round to fixing it: the issue stays on the sheet
    return kind


def _log_picks(rep: Rep, week: Week, rng: random.Random) -> list[Deal | None]:
    """The deals this week's log rows are about (None: office work). Reps work every open deal at least
    every other week, except the one they neglect."""
    days = week.workdays
    active = [d for d in rep.deals if (d.status == "open" or d.closed_on in days) and not d.neglected]
    overdue = sorted((d for d in active if d.status == "open" and week.index - d.last_logged >= 2),
                     key=lambda d: d.last_logged)[:9]
    picks: list[Deal | None] = list(overdue)
    for _ in range(max(rng.randint(3, 8), len(overdue) + 1) - len(overdue)):
        picks.append(rng.choice(active) if active and rng.random() < 0.85 else None)
    for d in picks:
        if d is not None:
            d.last_logged = week.index
    return picks


def weekly_content(rep: Rep, week: Week, rng: random.Random, lang: str, slip: str | None,
                   playbook: Playbook) -> tuple[dict[str, str], list[dict], list[dict], list[dict]]:
    """(form values, log rows, contract rows, expense rows) of one rep's weekly report."""
    events = []
    for kind, d in rep.events[:5]:
        name = _pick(d.customer, lang)
        if kind == "won":
            events.append(f"Signed {name} ({_category(d.category, lang)}), CNY {d.amount:,}" if lang == "en"
                          else f"签下{name}{d.category}合同,{d.amount / 10_000:g}万元")
        elif kind == "advanced":
            stage = playbook.stage(d.stage).name(lang)
            events.append(f"{name} moved to {stage}" if lang == "en" else f"{name}推进到{stage}")
        elif kind == "lost":
            events.append(f"Lost {name}" if lang == "en" else f"{name}丢单")
        elif kind == "new":
            events.append(f"New opportunity: {name}" if lang == "en" else f"新增商机:{name}")
    if not events:
        events.append("Routine visits and follow-ups" if lang == "en" else "日常客户拜访与方案跟进")
    news = rng.sample(MARKET_NEWS, rng.randint(1, 2))
    form = {"key_events": ("; " if lang == "en" else ";").join(events),
            "market_news": (" " if lang == "en" else "").join(_pick(n, lang) for n in news)}

    days = week.workdays
    log = []
    for d in _log_picks(rep, week, rng):
        day = rng.choice(days)
        start = rng.randint(17, 30) / 2  # 08:30 .. 15:00
        hours = rng.choice((1.0, 1.5, 2.0, 2.5, 3.0, 4.0))
        when = f"{int(start):02d}:{int(start % 1 * 60):02d}-{int(start + hours):02d}:{int((start + hours) % 1 * 60):02d}"
        if d is not None:
            what = rng.choice(ACTIVITIES[d.stage])
            log.append({"date": day, "time": when, "content": _pick(what, lang), "unit": _pick(d.customer, lang),
                        "person": _pick(d.contact, lang), "contact": d.phone, "result": _pick(rng.choice(RESULTS), lang),
                        "hours": hours, "cost": rng.choice((0, 0, 60, 120, 260, 480)),
                        "deal": _pick(d.customer, lang), **demo_log.ticks(what)})
        else:
            what, result = rng.choice(OFFICE)
            log.append({"date": day, "time": when, "content": _pick(what, lang), "result": _pick(result, lang),
                        "hours": hours, "cost": 0, **demo_log.ticks(what)})
    log.sort(key=lambda r: (r["date"], r["time"]))
    demo_log.busy(rep.id, log)
    if slip == "date-outside-week":  # last week's row copied over without changing its date
        log[0]["date"] = week.monday - dt.timedelta(days=3)

    contracts = []
    for kind, d in rep.events:
        if kind == "won":
            qty = 1 if d.category in ("售后服务", "自动化产线") else rng.randint(1, 3)
            contracts.append({"customer": _pick(d.customer, lang), "category": _category(d.category, lang),
                              "model": _model(d.model, lang), "quantity": qty, "amount": d.amount,
                              "remarks": "30% advance, 60% on delivery" if lang == "en" else "预付30%,到货60%"})

    expenses = []
    for day in sorted(rng.sample(days, min(len(days), rng.randint(1, 3)))):
        place = _pick(rng.choice(PLACES[rep.region]), lang)
        expenses.append({"date": day, "travel": rng.randrange(200, 2600, 10),
                         "entertainment": rng.choice((0, 0, 380, 650, 1200)), "other": rng.choice((0, 0, 45, 120)),
                         "remarks": _pick(rng.choice(TRAVEL), lang).format(place=place)})
    return form, log, contracts, expenses


# --------------------------------------------------------------------------------------------
# Typing into a workbook
# --------------------------------------------------------------------------------------------
def _sheet(wb: Any, spec: Table | Form) -> Any:
    return next(wb[name] for name in (spec.zh, spec.en) if name in wb.sheetnames)


def fill_workbook(path: Path, tables: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]] = (),
                  form: tuple[Form, Mapping[str, Any]] | None = None) -> Path:
    """Type a form and several tables into one workbook with a single load and save.

    Like :func:`sheetsales.reading.fill.fill_table` (with ``clear``) and :func:`~sheetsales.reading.fill.fill_form`:
    each table's previous rows are emptied (a rep retyping the list), a value is written as given
    and a typed cell takes its column's format, as in Excel.
    """
    wb = openpyxl.load_workbook(path)
    if form is not None:
        spec, values = form
        ws = _sheet(wb, spec)
        labels = {f.zh: f.key for f in spec.fields} | {f.en: f.key for f in spec.fields}
        for (cell,) in ws.iter_rows(min_col=1, max_col=1):
            key = labels.get(str(cell.value or ""))
            if key in values:
                ws.cell(cell.row, 2, values[key])
    for table, rows in tables:
        ws = _sheet(wb, table)
        for row in ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=max(ws.max_row, FIRST_DATA_ROW)):
            for cell in row:
                cell.value = None
        styled = [d for d in ws.column_dimensions.values() if d.has_style and d.min and d.max]
        style_of = {c: next((d._style for d in styled if d.min <= c <= d.max), None)
                    for c in range(1, len(table.columns) + 1)}
        for r, record in enumerate(rows):
            for c, col in enumerate(table.columns, start=1):
                if col.key not in record:
                    continue
                value = record[col.key]
                if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    value = dt.datetime.combine(value, dt.time())
                cell = ws.cell(FIRST_DATA_ROW + r, c, value)
                if style_of[c] is not None:
                    cell._style = copy.copy(style_of[c])
    wb.save(path)
    return path


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------
def _prepare(root: Path, lang: str) -> None:
    """Wipe a previous demo in ``root``; refuse anything else that is not empty."""
    if root.is_file():
        raise DemoError(_msg("refuse_file", lang, root=root))
    if not root.exists() or not any(root.iterdir()):
        return
    if (root / CONFIG).is_file() and (root / DEMO_MARKER).is_file():
        shutil.rmtree(root)
        return
    if (root / CONFIG).is_file():
        raise DemoError(_msg("refuse_workspace", lang, root=root))
    raise DemoError(_msg("refuse_files", lang, root=root))


def run_demo(root: Path, as_of: dt.date, lang: str = "zh-CN", weeks: int = 8,
             out: Callable[[str], Any] = print) -> DemoResult:
    """Build the demo workspace in ``root``: ``weeks`` weeks of saves up to ``as_of``, ingested and reported."""
    started = time.perf_counter()
    root = Path(root)
    if lang not in LANGS:
        raise DemoError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    if not 1 <= weeks <= 52:
        raise DemoError(_msg("bad_weeks", lang, weeks=weeks))
    _prepare(root, lang)
    root.mkdir(parents=True, exist_ok=True)
    (root / DEMO_MARKER).write_text("Made by `sheetsales demo`; the next demo run deletes and rebuilds this folder.\n",
                                    encoding="utf-8")
    plan = demo_weeks(as_of, weeks)
    out(_msg("start", lang, root=root, weeks=weeks, as_of=as_of))
    playbook = demo_playbook(lang, as_of, plan[0].monday)
    ws = init_workspace(root, lang, playbook=playbook, as_of=plan[0].monday)
    with ws.lock(command="sheetsales demo"):  # one writer: the weeks' ingests and the report
        sim = Simulation(plan, as_of)
        errors = _error_plan(weeks)
        text_rng = random.Random(SEED + 1)  # the reports' wording, apart from the deals' fate
        care_memo: dict = {}  # the customers the help requests and cards name (demo_care.py)
        files = 0
        for week in plan:
            if week.index:
                sim.advance(week)
            for rep in sim.reps:
                slip = _inject(rep, week, errors, lang, sim)
                _save_week(ws, playbook, rep, week, lang, slip, text_rng)
                _save_lost(ws, playbook, rep, lang)
            for author in sim.deciders:
                _save_decisions(ws, playbook, sim, author, week, lang)
            demo_care.save_help_and_cards(ws, playbook, sim, week, weeks, as_of, lang, care_memo, fill_workbook)
            demo_log.rewrite_logs(root, lang, week.index, weeks, week.monday, fill_workbook)
            sim.observe(week)
            result = ingest(ws, as_of=week.ingest_on)
            if result.playbook_issues and any(i.severity == ERROR for i in result.playbook_issues):
                raise DemoError(_msg("bad_playbook", lang, issues="; ".join(i.render(lang) for i in result.playbook_issues)))
            files += result.new
            out(_msg("week", lang, i=week.index + 1, n=weeks, week=week.iso, reps=len(sim.reps), files=result.new,
                     issues=result.errors + result.warnings))
            _offer_waiting(ws, sim, week, lang)

        report = run_report(ws, as_of)
    seconds = time.perf_counter() - started
    out(_msg("done", lang, seconds=seconds, as_of=as_of, deals=len(report.summary.opportunities),
             alerts=len(report.summary.alerts), issues=len(report.summary.issues)))
    out(_msg("workspace", lang, path=root.resolve()))
    out(_msg("summary", lang, path=report.summary_path.resolve()))
    out(_msg("feedback", lang, path=(ws.reports / "feedback").resolve(), count=len(report.feedback)))
    out(_msg("inbox", lang, path=ws.inbox.resolve()))
    out(_msg("playbook", lang, path=ws.playbook_path.resolve()))
    return DemoResult(root=root, summary_path=report.summary_path, feedback=report.feedback,
                      weeks=[w.iso for w in plan], ingest_dates=[w.ingest_on for w in plan], files_ingested=files,
                      issues=len(report.summary.issues), seconds=seconds)


def _save_week(ws: Workspace, playbook: Playbook, rep: Rep, week: Week, lang: str, slip: str | None,
               rng: random.Random) -> None:
    """One rep's saves of the week: the MPC list retyped (with its qualification and C931 sheets),
    the weekly report filled."""
    folder = ws.inbox / rep.id
    mpc = folder / template_filename("mpc", lang, rep.id)
    if not mpc.exists():
        ws.write_template(mpc, "mpc", playbook, rep.id)
    for d in rep.deals:
        d.peak = max(d.peak, d.stage)
    fill_workbook(mpc, ((mpc_table(len(playbook.stages)), mpc_rows(rep, playbook, lang)),
                        (QUALIFICATION_TABLE, qualification_rows(rep, lang)),
                        (C931_TABLE, c931_rows(rep, playbook, lang))))

    weekly = folder / template_filename("weekly", lang, rep.id, week.iso)
    if not weekly.exists():  # handed out at the previous ingest only for the week of that ingest
        ws.write_template(weekly, "weekly", playbook, rep.id, week.iso,
                          lists={"deal": [_pick(d.customer, lang) for d in rep.deals if d.status == "open"]})
    form, log, contracts, expenses = weekly_content(rep, week, rng, lang, slip, playbook)
    contracts += [{**c, "customer": _pick(c["customer"], lang), "category": _category(c["category"], lang),
                   "model": _model(c["model"], lang)} for c in rep.extra_contracts.get(week.index, [])]
    plan = demo_log.plan_rows(rep.deals, week.monday, lang, lambda d: d.amount * playbook.stage(d.stage).probability,
                              lambda d: _pick(d.customer, lang))
    fill_workbook(weekly, ((LOG_TABLE, log), (CONTRACTS_TABLE, contracts), (EXPENSES_TABLE, expenses),
                           (PLAN_TABLE, plan)), form=(WEEKLY_FORM, form))


def lost_report_rows(rep: Rep, lang: str) -> list[dict[str, Any]]:
    """The rep's lost-deal report: a row per lost deal (but the scripted unreported one)."""
    rows = []
    for d in rep.deals:
        if d.status != "lost" or d.unreported:
            continue
        reason, winner, ratio, method, analysis = LOST_REPORT_FACTS[d.lost_reason]
        ours = d.amount
        rows.append({
            "customer": _pick(d.customer, lang), "category": _category(d.category, lang),
            "report_date": d.closed_on, "customer_region": _pick(REGIONS[rep.region], lang),
            "agent": _pick(d.distributor, lang) if d.distributor else None, "purchase_method": _pick(method, lang),
            "purchase_date": d.closed_on, "winner": _pick(winner, lang) if winner else None,
            "winner_model": "LX-" + str(d.pick % 900 + 100) if winner else None,
            "winner_price": round(ours * ratio, -3) if ratio else None,
            "winner_terms": _pick(LOST_TERMS[0], lang) if winner else None, "our_model": _model(d.model, lang),
            "our_price": ours, "our_terms": _pick(LOST_TERMS[1], lang), "reason": _pick(reason, lang),
            "analysis": _pick(analysis, lang),
        })
    return rows


def _save_lost(ws: Workspace, playbook: Playbook, rep: Rep, lang: str) -> None:
    """The rep's lost-deal report, saved in the weeks a lost deal is added to it."""
    rows = lost_report_rows(rep, lang)
    if not rows or len(rows) == rep.reported:
        return
    path = ws.inbox / rep.id / template_filename("lost", lang, rep.id)
    if not path.exists():  # not yet handed out: the rep's first lost deal is this week's
        ws.write_template(path, "lost", playbook, rep.id, lists={"deal": [r["customer"] for r in rows]})
    fill_workbook(path, ((LOST_TABLE, rows),))
    rep.reported = len(rows)


def _save_decisions(ws: Workspace, playbook: Playbook, sim: Simulation, author: str, week: Week, lang: str) -> None:
    """A supervisor's decisions workbook, saved in the weeks they decide something (rows accumulate)."""
    rows = sim.decision_rows(author, week, lang, playbook)
    if rows is None:
        return
    path = ws.inbox / author / template_filename("decisions", lang, author)
    if not path.exists():  # a rep who made himself a decisions workbook
        ws.write_template(path, "decisions", playbook, author)
    # A deal the drop-down offers is picked from it; one it does not (a workbook saved before the deal
    # waited, a rep's own workbook) is typed, as is the scripted slip.
    offered = waiting_offered(path)
    fill_workbook(path, ((DECISIONS_TABLE, [{**r, "deal": offered.get(r["deal"], r["deal"])} for r in rows]),))


def _offer_waiting(ws: Workspace, sim: Simulation, week: Week, lang: str) -> None:
    """Before a week in which a supervisor decides, their untouched decisions workbook is brought up to
    date with the deals waiting, as the report after each ingest does when the watcher runs."""
    from ..outputs.report import build_summary
    from ..outputs.waiting import refresh_all, untouched

    upcoming = {d.author for d in sim.decisions if d.week == week.index + 1}
    paths = [ws.inbox / a / template_filename("decisions", lang, a) for a in upcoming]
    if any(untouched(ws.root, p) is not None for p in paths):
        refresh_all(ws, build_summary(ws, week.ingest_on))


def waiting_offered(path: Path) -> dict[str, str]:
    """deal id -> the label a decisions workbook's drop-down offers for it (its hidden lists sheet)."""
    import openpyxl

    from ..outputs.waiting import deal_id
    from ..reading.specs import LISTS_SHEET

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        if LISTS_SHEET not in wb.sheetnames:
            return {}
        columns = list(zip(*wb[LISTS_SHEET].iter_rows(values_only=True), strict=False))
    finally:
        wb.close()
    found = next((c for c in columns if c and c[0] == "waiting"), ())
    return {deal_id(str(label)): str(label) for label in found[1:] if label}
